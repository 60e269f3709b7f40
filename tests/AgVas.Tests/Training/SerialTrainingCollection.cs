namespace AgVas.Tests.Training;

/// <summary>
/// Tests that compare weights of training runs: the loop seeds torch's process-wide generator at every step (and the
/// models' initialisation draws from it), so another test drawing from it at the same time would change the draws.
/// These tests run alone, never in parallel with any other test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTrainingCollection
{
    public const string Name = "serial training";
}
