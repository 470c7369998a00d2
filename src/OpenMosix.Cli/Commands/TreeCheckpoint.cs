using System.Text.Json;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Tree;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Cli.Commands;

/// <summary>`om checkpoint --tree`: a process and its descendants into one directory; and the hint towards it.</summary>
internal static class TreeCheckpoint
{
    public static int Run(ParseResult parse, int pid, string output, bool kill, bool compress, bool json)
    {
        using var loggers = CommandLine.Loggers(parse);
        using var engine = new CheckpointEngine(loggers);
        TreeDumpResult result;
        using (var directory = TreeImageDirectory.Create(output, compress))
            result = engine.CheckpointTree(pid, directory, new DumpOptions(kill ? AfterDump.Kill : AfterDump.Resume));
        if (json)
        {
            var done = new TreeCheckpointJson(pid, output, result.Running, result.Exited, result.SharedPipes, result.PageBytes,
                result.Frozen.TotalMilliseconds, kill);
            Console.WriteLine(JsonSerializer.Serialize(done, CliJsonContext.Default.TreeCheckpointJson));
            return 0;
        }
        Console.Error.WriteLine(
            $"om: checkpointed the tree of PID {pid}: {result.Running} processes" +
            (result.Exited > 0 ? $" and {result.Exited} exited child{(result.Exited == 1 ? "" : "ren")} not waited for" : "") +
            $", {result.SharedPipes} shared pipe{(result.SharedPipes == 1 ? "" : "s")}, {result.PageBytes / 1048576.0:F1} MiB of pages, " +
            $"frozen {result.Frozen.TotalMilliseconds:F1} ms" + (kill ? ", then killed" : "") + $" -> {output}");
        return 0;
    }

    /// <summary>
    /// Without --tree a process with children is refused before anything is done to it, with every reason (the
    /// children named among them) and how to take them along, in one line.
    /// </summary>
    public static void RefuseChildren(CheckpointEngine engine, int pid)
    {
        if (ProcFs.ReadChildren(pid).Count == 0) return;
        var report = engine.AnalyzeCantMove(pid);
        if (report.CanMove) return; // its children were reaped meanwhile
        throw new CantMoveException(new CantMoveReport(pid,
            [.. report.Reasons, $"--tree checkpoints it with its children (om checkpoint --tree {pid} -o DIR)"]));
    }
}
