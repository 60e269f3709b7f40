using AgVas.Modeling;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace AgVas.Training;

/// <summary>A loss to back-propagate (<see cref="Total"/>, owned) with its parts as numbers for the log.</summary>
public sealed class TrainingLoss(Tensor total, LossParts parts) : IDisposable
{
    public Tensor Total { get; } = total;
    public LossParts Parts { get; } = parts;
    public void Dispose() => Total.Dispose();
}

/// <summary>
/// What the training loop needs from a model: its modules, the trainable parameters (chosen by module membership,
/// never by name patterns), the loss of a batch, a FLOP count for model-FLOPs utilisation, and how to save it.
/// AG-VAS's model implements it; tests use small stand-ins.
/// </summary>
public interface ITrainableModel
{
    /// <summary>The whole network (train/eval mode, every tensor for full checkpoints).</summary>
    nn.Module Module { get; }

    /// <summary>The parameters the optimiser updates, with their state_dict names, in a fixed order.</summary>
    IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters();

    /// <summary>L for a batch (teacher-forced text + segmentation), weighted by <paramref name="weights"/>.</summary>
    TrainingLoss Loss(IReadOnlyList<LoadedExample> batch, LossWeights weights);

    /// <summary>Model FLOPs of one training example (forward + backward, matmuls and convolutions), for MFU.</summary>
    double TrainingFlopsPerExample { get; }

    /// <summary>Writes the model directory (weights + config + tokenizer) that inference loads.</summary>
    void Save(string directory);
}
