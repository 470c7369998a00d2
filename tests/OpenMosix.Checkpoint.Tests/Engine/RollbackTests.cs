using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
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

    [Fact]
    public void A_process_killed_while_frozen_for_its_checkpoint_is_handed_to_its_parent_whose_wait_returns()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        // A shell is the target's parent, as for a job started from a terminal; the engine is only its tracer.
        const string script = "\"$0\" 1000 > \"$1\" & echo $! > \"$2\"; wait $!; echo \"status $?\"";
        using var shell = ChildProcess.StartToFile("/bin/sh", ["-c", script, counter, dir.File("out"), dir.File("pid")], dir.File("shell"));
        Poll.UntilLines(dir.File("out"), 5, Patience);
        var pid = int.Parse(File.ReadAllText(dir.File("pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        using var engine = new CheckpointEngine();
        Assert.Throws<IOException>(() => engine.Checkpoint(pid, new KillingSink(pid), new DumpOptions(AfterDump.KeepFrozen)));

        Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
        Assert.Equal("status 137", File.ReadAllLines(dir.File("shell"))[^1]);
    }

    [Fact]
    public void Failed_checkpoint_with_kill_requested_resumes_the_original_which_finishes_identically()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["40"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(counter, ["40"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 5, Patience);

        using var engine = new CheckpointEngine();
        var sink = new FailingSink();
        var e = Assert.Throws<IOException>(() => engine.Checkpoint(child.Pid, sink, new DumpOptions(AfterDump.Kill)));
        Assert.Contains("simulated", e.Message, StringComparison.Ordinal);

        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }
}
