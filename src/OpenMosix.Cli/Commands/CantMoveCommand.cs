using OpenMosix.Checkpoint.Engine;

namespace OpenMosix.Cli.Commands;

internal static class CantMoveCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "The process to examine; it is not stopped or changed." };
        return ResultCommand.Create("cantmove",
            "Print why a process cannot be migrated, one reason per line, then the descriptors a move would leave at home and forward through it. Exit status 0: it can move; 1: it cannot.",
            [pid], CliJsonContext.Default.CantMoveJson,
            parse =>
            {
                using var engine = new CheckpointEngine();
                var report = engine.AnalyzeCantMove(Pids.Check(parse.GetValue(pid)), forwarding: true);
                return new CantMoveJson(report.Pid, report.CanMove, [.. report.Reasons], [.. report.Forwarded]);
            },
            report =>
            {
                foreach (var reason in report.Reasons) Console.WriteLine(reason);
                foreach (var forwarded in report.Forwarded) Console.WriteLine(forwarded);
            },
            report => report.CanMove ? 0 : 1);
    }
}
