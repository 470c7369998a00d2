using OpenMosix.Cli.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// A tracer that dies in the middle of a checkpoint (omd SIGKILLed while a process is frozen and its image streams,
/// bench/chaos's sigkill1-frozen) leaves the process running as it was: the kernel lets its tracees go as they are,
/// and by then each has its own registers and signal mask back (docs/reliability.md).
/// </summary>
public sealed class TracerDeathTests
{
    [Fact]
    public void A_process_whose_checkpointer_is_killed_while_its_pages_stream_runs_on_and_finishes_as_if_nothing_happened()
    {
        var reference = CommandRun.Run(TestPaths.Program("memticker"), ["16", "60", "0"]).Stdout;
        using var dir = new TempDirectory("om-tracer-death");
        var output = dir.File("out");
        using var process = ChildProcess.StartToFile(TestPaths.Program("memticker"), ["16", "60", "50"], output);
        Poll.Until(() => File.ReadAllText(output).Split('\n').Length > 3, TimeSpan.FromSeconds(20), "memticker to tick");

        // Its image into a pipe nobody reads: the checkpoint blocks once the pipe is full, in the middle of the pages
        // (32 KiB are more than the header and the metadata).
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        {
            using var errors = File.OpenHandle(dir.File("checkpoint.err"), FileMode.Create, FileAccess.Write);
            using var checkpoint = ChildProcess.Start(TestPaths.Om, ["checkpoint", $"{process.Pid}", "-o", "-"], stdout: write, stderr: errors);
            write.Dispose();
            Poll.Until(() => PipePeek.Unread(read) >= 32768 || checkpoint.HasExited, TimeSpan.FromSeconds(30), "the image to fill the pipe");
            Assert.False(checkpoint.HasExited, $"the checkpoint ended before its pages could be stalled: {File.ReadAllText(dir.File("checkpoint.err"))}");
            Assert.Equal('t', TracingState(process.Pid));

            checkpoint.Kill();
            Assert.Equal(new ChildExit(0, Signals.SIGKILL), checkpoint.WaitForExit(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(new ChildExit(0, 0), process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, File.ReadAllText(output));
    }

    /// <summary>The process's state letter in /proc/PID/stat ('t': stopped by its tracer).</summary>
    private static char TracingState(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(") ", 2)[1][0];
}
