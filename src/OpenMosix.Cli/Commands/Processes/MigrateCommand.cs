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
            Description = "Move the process and its descendants here together, all or nothing: each keeps its PID, parent and deputy " +
                          "here, and on any failure every one runs on where it was. With home: bring back each of them that runs away.",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout instead of the line on stderr." };
        var command = ResultCommand.Create("migrate",
            "Move a managed process to another node now, while it runs; it keeps its PID, parent and terminal here. " +
            "Root may move any process, a user only their own; a process not managed yet is adopted (see `om adopt`). Also run as `migrate`.",
            [pid, target, noPrecopy, postcopy, tree], AdminJsonContext.Default.MigrationResult,
            parse =>
            {
                var process = Pids.Check(parse.GetValue(pid));
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
            json: json);
        // --tree answers with every member's move: its own result type, printed and written as JSON its own way.
        var single = (System.CommandLine.Invocation.SynchronousCommandLineAction)command.Action!;
        command.SetAction(parse =>
        {
            if (!parse.GetValue(tree)) return single.Invoke(parse);
            var process = Pids.Check(parse.GetValue(pid));
            if (parse.GetValue(postcopy) is { } mode and not "never")
                throw new UsageException($"--tree --postcopy {mode}: a tree moves without post-copy (each member's original is its deputy once committed)");
            var precopy = parse.GetValue(noPrecopy) ? false : (bool?)null;
            // Bounded as a single move without progress: the moves of the members run side by side.
            using var omd = new AdminClient(timeout: TimeSpan.FromMinutes(10));
            var result = omd.MigrateTreeAsync(process, parse.GetValue(target)!, precopy).GetAwaiter().GetResult();
            JsonOutput.Print(parse, json, result, AdminJsonContext.Default.TreeMigrationResult, () => PrintTree(result, parse.GetValue(target) == "home"));
            return 0;
        });
        return command;
    }

    private static void PrintTree(TreeMigrationResult result, bool home)
    {
        var pids = string.Join(", ", result.Moved.Select(m => m.Pid));
        var frozen = result.Moved.Max(m => m.FrozenMs);
        var bytes = result.Moved.Sum(m => m.ImageBytes);
        Console.Error.WriteLine($"tree of process {result.Root}: {result.Moved.Count} process{(result.Moved.Count == 1 ? "" : "es")} ({pids}) {(home ? "brought home to" : "moved to")} node {result.To} " +
            $"({bytes / 1048576.0:0.0} MiB, each frozen at most {frozen} ms)");
    }

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
