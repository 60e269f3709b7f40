using System.CommandLine;

namespace AgVas.Cli.Commands;

/// <summary><c>agvas eval</c>: scores a prediction directory against a dataset (placeholder until the evaluator lands).</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Score anomaly-segmentation predictions against a dataset's ground truth");
        command.SetAction(_ => 1);
        return command;
    }
}
