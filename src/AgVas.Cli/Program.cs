using System.CommandLine;
using AgVas.Cli.Commands;

var root = new RootCommand("AG-VAS: anchor-guided zero-shot visual anomaly segmentation");
foreach (var command in new Command[]
{
    EvalCommand.Create(),
    ModelCommand.Create(),
})
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
