using System.CommandLine;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Cli.Infrastructure;

namespace OpenMosix.Cli.Commands;

internal static class CheckpointCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "The process to checkpoint (single-threaded)." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write the image; `-` writes it to standard output (for a pipe).",
            Required = true,
        };
        var kill = new Option<bool>("--kill") { Description = "Kill the process once its image is complete (it keeps running otherwise)." };
        var compress = new Option<bool>("--compress") { Description = "Compress the image with LZ4." };
        var command = new Command("checkpoint", "Freeze a running process, write its image, then let it run on (or kill it).")
        {
            pid, output, kill, compress,
        };
        command.SetAction(parse => Run(parse, Pids.Check(parse.GetValue(pid)), parse.GetRequiredValue(output),
            parse.GetValue(kill), parse.GetValue(compress)));
        return command;
    }

    private static int Run(ParseResult parse, int pid, string output, bool kill, bool compress)
    {
        using var loggers = CommandLine.Loggers(parse);
        using var engine = new CheckpointEngine(loggers);
        var toStdout = output == "-";
        DumpResult result;
        try
        {
            using var stream = toStdout ? Console.OpenStandardOutput() : new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 0);
            using var writer = new ImageWriter(stream, new ImageWriterOptions(Compress: compress));
            result = engine.Checkpoint(pid, writer, new DumpOptions(kill ? AfterDump.Kill : AfterDump.Resume));
        }
        catch
        {
            if (!toStdout) File.Delete(output);
            throw;
        }
        Console.Error.WriteLine(
            $"om: checkpointed PID {pid}: {result.RegionCount} regions, {result.FileCount} descriptors, " +
            $"{result.PageBytes / 1048576.0:F1} MiB of pages, frozen {result.Frozen.TotalMilliseconds:F1} ms" +
            (kill ? ", then killed" : "") + (toStdout ? "" : $" -> {output}"));
        return 0;
    }
}
