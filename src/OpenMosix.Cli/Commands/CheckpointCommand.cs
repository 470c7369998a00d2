using System.Text.Json;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;

namespace OpenMosix.Cli.Commands;

internal static class CheckpointCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "The process to checkpoint (with all its threads)." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write the image; `-` writes it to standard output (for a pipe).",
            Required = true,
        };
        var kill = new Option<bool>("--kill") { Description = "Kill the process once its image is complete (it keeps running otherwise)." };
        var compress = new Option<bool>("--compress") { Description = "Compress the image with LZ4." };
        var tree = new Option<bool>("--tree")
        {
            Description = "Checkpoint the process with all its descendants into the directory -o (om restore rebuilds the tree).",
        };
        var json = new Option<bool>("--json") { Description = "Print what was done as JSON on stdout instead of the line on stderr (not with -o -)." };
        var command = new Command("checkpoint", "Freeze a running process, write its image, then let it run on (or kill it).")
        {
            pid, output, kill, compress, tree, json,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetRequiredValue(output);
            if (parse.GetValue(json) && target == "-") throw new UsageException("--json and -o - both need standard output");
            if (parse.GetValue(tree))
            {
                if (target == "-") throw new UsageException("--tree writes a directory: -o - cannot take it");
                return TreeCheckpoint.Run(parse, Pids.Check(parse.GetValue(pid)), target, parse.GetValue(kill), parse.GetValue(compress), parse.GetValue(json));
            }
            return Run(parse, Pids.Check(parse.GetValue(pid)), target, parse.GetValue(kill), parse.GetValue(compress), parse.GetValue(json));
        });
        return command;
    }

    private static int Run(ParseResult parse, int pid, string output, bool kill, bool compress, bool json)
    {
        using var loggers = CommandLine.Loggers(parse);
        using var engine = new CheckpointEngine(loggers);
        var toStdout = output == "-";
        DumpResult result;
        TreeCheckpoint.RefuseChildren(engine, pid);
        using (var file = toStdout ? null : ImageFileTarget.Create(output, pid))
        {
            using var stream = file?.Stream ?? Console.OpenStandardOutput();
            using (var writer = new ImageWriter(stream, new ImageWriterOptions(Compress: compress, LeaveOpen: true)))
            using (var progress = TerminalProgress.OnTerminal($"checkpoint of PID {pid}"))
                result = engine.Checkpoint(pid, writer, new DumpOptions(kill ? AfterDump.Kill : AfterDump.Resume, progress));
            file?.Commit();
        }
        if (json)
        {
            var done = new CheckpointJson(pid, toStdout ? null : output, result.RegionCount, result.FileCount, result.PageBytes,
                result.Frozen.TotalMilliseconds, kill);
            Console.WriteLine(JsonSerializer.Serialize(done, CliJsonContext.Default.CheckpointJson));
            return 0;
        }
        Console.Error.WriteLine(
            $"om: checkpointed PID {pid}: {result.RegionCount} regions, {result.FileCount} descriptors, " +
            $"{result.PageBytes / 1048576.0:F1} MiB of pages, frozen {result.Frozen.TotalMilliseconds:F1} ms" +
            (kill ? ", then killed" : "") + (toStdout ? "" : $" -> {output}"));
        return 0;
    }
}
