using OpenMosix.Checkpoint.Engine;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class RestoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Counter_restored_after_kill_finishes_with_identical_output()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["60"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(counter, ["60"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 10, Timeout);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        var dump = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(9, child.WaitForExit(Timeout).Signal);
        Assert.True(dump.PageBytes > 0);

        var restored = engine.Restore(image, new RestoreOptions());
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExit(restored));
        Assert.Equal(0, reference.WaitForExit(Timeout).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }
}
