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
