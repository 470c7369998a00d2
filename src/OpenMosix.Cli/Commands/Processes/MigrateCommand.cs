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
        var postcopy = new Option<string?>("--postcopy")
        {
            Description = "auto, never or always: whether the copy starts at once and fetches its memory from here as it needs it " +
                          "(post-copy; default: migration.postcopy in omd.toml, auto: when the process writes too fast for pre-copy).",
        };
        var tree = new Option<bool>("--tree")
        {
            Description = "Not built: moving a process with its descendants between running nodes. Refused with the commands " +
                          "that do it today (om checkpoint --tree, then om restore on the target).",
        };
        return ResultCommand.Create("migrate",
            "Move a managed process to another node now, while it runs; it keeps its PID, parent and terminal here. " +
            "Root may move any process, a user only their own; a process not managed yet is adopted (see `om adopt`). Also run as `migrate`.",
            [pid, target, noPrecopy, postcopy, tree], AdminJsonContext.Default.MigrationResult,
            parse =>
            {
                var process = Pids.Check(parse.GetValue(pid));
                if (parse.GetValue(tree)) throw new UsageException(TreeRefusal(process, parse.GetValue(target)!));
                var precopy = parse.GetValue(noPrecopy) ? false : (bool?)null;
                var mode = parse.GetValue(postcopy);
                if (mode is not null and not ("auto" or "never" or "always"))
                    throw new UsageException($"--postcopy {mode}: auto, never or always");
                // Without progress, the timeout bounds the whole move; with it, each wait for the next step.
                using var omd = new AdminClient(timeout: TimeSpan.FromMinutes(10));
                using var line = TerminalProgress.OnTerminal($"migration of PID {process}");
                var move = line is null
                    ? omd.MigrateAsync(process, parse.GetValue(target)!, precopy, postcopy: mode)
                    : omd.MigrateAsync(process, parse.GetValue(target)!, precopy, new MigrationLine(line), postcopy: mode);
                return move.GetAwaiter().GetResult();
            },
            Print,
            json: new Option<bool>("--json") { Description = "Print the result as JSON on stdout instead of the line on stderr." });
    }

    /// <summary>
    /// `om migrate --tree`: not built (all or nothing over one link per process, an abort half-way thawing on their old
    /// node the parents already gone, is more than is done); nothing is done to the tree, and the way that works today
    /// is given with this PID and node, so that it can be copied.
    /// </summary>
    public static string TreeRefusal(int pid, string target) =>
        $"--tree: moving process {pid} with its descendants between running nodes is not built, nothing was done; " +
        $"to take the tree along: `om checkpoint --tree {pid} -o DIR --kill` here, then `om restore DIR` on " +
        $"{(target is "home" or "balance" ? "the node wanted" : $"node {target}")} (DIR where both nodes see it; " +
        "without --kill the tree runs on here)";

    /// <summary>omd's reports of the move, on the terminal's progress line.</summary>
    private sealed class MigrationLine(TerminalProgress line) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => line.Report((ulong)Math.Max(0, value.Bytes), value.Phase switch
        {
            MigrationProgress.Precopy => $"pre-copy round {value.Round}",
            MigrationProgress.Frozen => "frozen",
            MigrationProgress.Restoring => "restoring",
            MigrationProgress.Home => "coming home first",
            _ => value.Phase,
        });
    }

    private static void Print(MigrationResult result)
    {
        var precopied = result.PrecopyRounds > 0
            ? $", after {result.PrecopyRounds} pre-copy round{(result.PrecopyRounds == 1 ? "" : "s")} of {result.PrecopyBytes / 1048576.0:0.0} MiB while it ran, {result.TotalMs} ms in all"
            : "";
        Console.Error.WriteLine($"process {result.Pid} moved from node {result.From} to node {result.To} " +
            $"({result.ImageBytes / 1048576.0:0.0} MiB, frozen {result.FrozenMs} ms{precopied}{(result.Postcopy ? ", post-copy: its memory follows" : "")})");
    }
}
