using System.CommandLine;
using AgVas.Cli.Commands;

var root = new RootCommand("AG-VAS: anchor-guided zero-shot visual anomaly segmentation");
foreach (var command in new Command[]
{
    EvalCommand.Create(),
    TrainCommand.Create(),
    PredictCommand.Create(),
    SegmentCommand.Create(),
    TestCommand.Create(),
    SynthCommand.Create(),
    CurateCommand.Create(),
    ModelCommand.Create(),
    ServeCommand.Create(),
})
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
