using System.Text.Json;
using OpenMosix.Checkpoint.Engine;

namespace OpenMosix.Cli.Commands;

internal static class CantMoveCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "The process to examine; it is not stopped or changed." };
        var json = GlobalOptions.Json();
        var command = new Command("cantmove",
            "Print why a process cannot be checkpointed or migrated, one reason per line. Exit status 0: it can move; 1: it cannot.")
        {
            pid, json,
        };
        command.SetAction(parse =>
        {
            using var engine = new CheckpointEngine();
            var report = engine.AnalyzeCantMove(Pids.Check(parse.GetValue(pid)));
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new CantMoveJson(report.Pid, report.CanMove, [.. report.Reasons]), CliJsonContext.Default.CantMoveJson));
            else
                foreach (var reason in report.Reasons) Console.WriteLine(reason);
            return report.CanMove ? 0 : 1;
        });
        return command;
    }
}
