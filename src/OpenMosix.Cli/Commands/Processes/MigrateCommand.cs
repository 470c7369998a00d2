using OpenMosix.Admin;

namespace OpenMosix.Cli.Commands.Processes;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A process of this node: one managed by openMosix, or any other, which is adopted on the spot (yours, or any as root)." };
        var target = new Argument<string>("NODE") { Description = "A node id, home (bring it back), or balance (the least loaded node)." };
        var noPrecopy = new Option<bool>("--no-precopy")
        {
            Description = "Freeze the process first and copy all of its memory frozen, instead of copying it while it runs " +
                          "and freezing it only for what changed meanwhile (the default, migration.precopy in omd.toml).",
        };
        return ResultCommand.Create("migrate",
            "Move a managed process to another node now, while it runs; it keeps its PID, parent and terminal here. " +
            "Root may move any process, a user only their own; a process not managed yet is adopted (see `om adopt`). Also run as `migrate`.",
            [pid, target, noPrecopy], AdminJsonContext.Default.MigrationResult,
            parse =>
            {
                using var omd = new AdminClient(timeout: TimeSpan.FromMinutes(10));
                return omd.MigrateAsync(Pids.Check(parse.GetValue(pid)), parse.GetValue(target)!, parse.GetValue(noPrecopy) ? false : null)
                    .GetAwaiter().GetResult();
            },
            Print,
            json: new Option<bool>("--json") { Description = "Print the result as JSON on stdout instead of the line on stderr." });
    }

    private static void Print(MigrationResult result)
    {
        var precopied = result.PrecopyRounds > 0
            ? $", after {result.PrecopyRounds} pre-copy round{(result.PrecopyRounds == 1 ? "" : "s")} of {result.PrecopyBytes / 1048576.0:0.0} MiB while it ran, {result.TotalMs} ms in all"
            : "";
        Console.Error.WriteLine($"process {result.Pid} moved from node {result.From} to node {result.To} " +
            $"({result.ImageBytes / 1048576.0:0.0} MiB, frozen {result.FrozenMs} ms{precopied})");
    }
}
