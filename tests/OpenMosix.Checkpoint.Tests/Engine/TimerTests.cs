using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class TimerTests
{
    [Fact]
    public void A_periodic_timer_that_fired_and_awaits_re_arming_keeps_ticking_after_restore()
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("duetimer"), ["5"], dir.File("out"), read);
        Poll.Until(() => File.ReadAllText(dir.File("out")).StartsWith("ready", StringComparison.Ordinal), Patience, "ready");
        // The state under test: SIGALRM pending, and the kernel reporting 0 time left on a 20 ms periodic timer.
        Assert.Equal("ready pending=1 left=0\n", File.ReadAllText(dir.File("out")));
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(20_000, image.Metadata.Timers.Real.IntervalMicroseconds);
        Assert.True(image.Metadata.Timers.Real.IsArmed);
        Assert.Contains(image.Metadata.Signals.Pending, p => p.Number == Signals.SIGALRM);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }));
        read.Dispose();
        WriteAll(write, "go\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.EndsWith("ticks 5\n", File.ReadAllText(dir.File("out")), StringComparison.Ordinal);
    }
}
