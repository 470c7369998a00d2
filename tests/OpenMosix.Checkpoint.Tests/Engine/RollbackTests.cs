using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class RollbackTests
{
    private sealed class FailingSink : IImageSink
    {
        public int Runs { get; private set; }
        public void WriteMetadata(ProcessImage image) { }

        public void WritePages(ulong address, ReadOnlySpan<byte> data)
        {
            if (++Runs == 3) throw new IOException("disk full (simulated)");
        }

        public void Complete() { }
    }

    // What the OOM killer does to a process frozen on a full node while its image is sent away.
    private sealed class KillingSink(int pid) : IImageSink
    {
        public void WriteMetadata(ProcessImage image) { }

        public void WritePages(ulong address, ReadOnlySpan<byte> data)
        {
            OpenMosix.Linux.Signals.Kill(pid, OpenMosix.Linux.Signals.SIGKILL);
            throw new IOException("link lost after the kill (simulated)");
        }

        public void Complete() { }
    }

    // The same, once every page is out: the image is whole, the process is not.
    private sealed class KillingAtTheEndSink(int pid) : IImageSink
    {
        public void WriteMetadata(ProcessImage image) { }
        public void WritePages(ulong address, ReadOnlySpan<byte> data) { }

        public void Complete()
        {
            OpenMosix.Linux.Signals.Kill(pid, OpenMosix.Linux.Signals.SIGKILL);
            // The kill reaches a stopped tracee at once, but its exit takes a moment: wait until the kernel says so.
            Poll.Until(() => ProcessState(pid) is 'Z' or 'X' or null, Patience, $"process {pid} to die");
        }
    }

    private static char? ProcessState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>A shell is the target's parent, as for a job started from a terminal; the engine is only its tracer.</summary>
    private static (ChildProcess Shell, int Pid) StartUnderShell(TempDirectory dir)
    {
        const string script = "\"$0\" 1000 > \"$1\" & echo $! > \"$2\"; wait $!; echo \"status $?\"";
        var shell = ChildProcess.StartToFile("/bin/sh", ["-c", script, TestPrograms.Locate("counter"), dir.File("out"), dir.File("pid")], dir.File("shell"));
        Poll.UntilLines(dir.File("out"), 5, Patience);
        return (shell, int.Parse(File.ReadAllText(dir.File("pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The shell's wait returned, with the status of a process killed by SIGKILL.</summary>
    private static void AssertShellSawItKilled(ChildProcess shell, TempDirectory dir)
    {
        Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
        Assert.Equal("status 137", File.ReadAllLines(dir.File("shell"))[^1]);
    }

    [Fact]
    public void A_process_killed_while_frozen_for_its_checkpoint_is_handed_to_its_parent_whose_wait_returns()
    {
        using var dir = new TempDirectory();
        var (shell, pid) = StartUnderShell(dir);
        using var _ = shell;

        using var engine = new CheckpointEngine();
        // The sink's own failure, or the next read of the dead process's pages (AddressSpaceGoneException): whichever
        // comes first, an I/O failure.
        Assert.ThrowsAny<IOException>(() => engine.Checkpoint(pid, new KillingSink(pid), new DumpOptions(AfterDump.KeepFrozen)));

        AssertShellSawItKilled(shell, dir);
    }

    [Fact]
    public void A_process_killed_after_its_last_page_was_copied_is_reported_gone_and_handed_to_its_parent()
    {
        using var dir = new TempDirectory();
        var (shell, pid) = StartUnderShell(dir);
        using var _ = shell;

        using var engine = new CheckpointEngine();
        var e = Assert.Throws<TraceeGoneException>(() => engine.Checkpoint(pid, new KillingAtTheEndSink(pid), new DumpOptions(AfterDump.KeepFrozen)));
        Assert.Equal($"process {pid} was killed while frozen for its checkpoint", e.Message);

        AssertShellSawItKilled(shell, dir);
    }

    [Fact]
    public void A_process_killed_while_kept_frozen_is_not_made_a_deputy_and_is_handed_to_its_parent()
    {
        using var dir = new TempDirectory();
        var (shell, pid) = StartUnderShell(dir);
        using var _ = shell;

        using var engine = new CheckpointEngine();
        engine.Checkpoint(pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        OpenMosix.Linux.Signals.Kill(pid, OpenMosix.Linux.Signals.SIGKILL);
        var e = Assert.Throws<TraceeGoneException>(() => engine.MakeDeputy(pid));
        Assert.Equal($"process {pid} was killed while frozen for its move", e.Message);

        AssertShellSawItKilled(shell, dir);
    }

    [Fact]
    public void Failed_checkpoint_with_kill_requested_resumes_the_original_which_finishes_identically()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["40"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(counter, ["40", "5"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 5, Patience);

        using var engine = new CheckpointEngine();
        var sink = new FailingSink();
        var e = Assert.Throws<IOException>(() => engine.Checkpoint(child.Pid, sink, new DumpOptions(AfterDump.Kill)));
        Assert.Contains("simulated", e.Message, StringComparison.Ordinal);
        OpenMosix.Linux.Signals.Kill(child.Pid, OpenMosix.Linux.Signals.SIGUSR1);

        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }
}
