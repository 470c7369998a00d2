using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// kernelfds runs an event loop over an epoll set of an eventfd, a timerfd, a signalfd, a self-pipe and a nested
/// epoll, with a memfd mapped twice: checkpointed mid-run, killed, and restored, it must print exactly what an
/// uncheckpointed run prints.
/// </summary>
public sealed class KernelObjectDescriptorTests
{
    private const int Rounds = 40;

    [Fact]
    public void An_event_loop_over_eventfd_timerfd_signalfd_epoll_and_a_memfd_continues_after_restore_byte_for_byte()
    {
        using var dir = new TempDirectory();
        var reference = RunUncheckpointed(dir.File("reference"));

        // Held after round 12 until SIGWINCH: its 28 rounds left (0.8 s) were over before the checkpoint at load 100.
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("kernelfds"), [$"{Rounds}", "12"], dir.File("out"));
        Poll.Until(() => File.ReadAllText(dir.File("out")).Contains("round 12:", StringComparison.Ordinal), Patience, "round 12");
        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(child.Pid);
        Assert.True(report.CanMove, string.Join("; ", report.Reasons));
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions());
        Signals.Kill(restored.Pid, Signals.SIGWINCH);
        var status = engine.WaitForExitWithin(restored, Patience);
        Assert.Equal(reference, File.ReadAllText(dir.File("out")));
        Assert.Equal(new ExitStatus(0, 0), status);
    }

    [Fact]
    public void The_image_carries_counters_timers_masks_registrations_and_only_the_written_pages_of_a_sparse_memfd()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("kernelfds"), [$"{Rounds}", "3"], dir.File("out"));
        Poll.Until(() => File.ReadAllText(dir.File("out")).Contains("round 3:", StringComparison.Ordinal), Patience, "round 3");
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));
        Signals.Kill(child.Pid, Signals.SIGWINCH);
        Assert.True(child.WaitForExit(Patience) == new ChildExit(0, 0), File.ReadAllText(dir.File("out")));

        var files = image.Metadata.Files;
        var semaphore = Assert.Single(files, f => f.EventFd is { Semaphore: true });
        Assert.Equal(26UL, semaphore.EventFd!.Count); // 30, less one per round 0 to 3, held after round 3
        Assert.Contains(files, f => f.EventFd is { Count: >= 0x1_0000_0000 }); // past what eventfd2 can set
        var periodic = Assert.Single(files, f => f.TimerFd is { ClockId: 1 });
        Assert.Equal(30_000_000, periodic.TimerFd!.IntervalNanoseconds);
        var expired = Assert.Single(files, f => f.TimerFd is { ClockId: 7 });
        Assert.Equal(1UL, expired.TimerFd!.Ticks);
        var absolute = Assert.Single(files, f => f.TimerFd is { ClockId: 0 });
        Assert.InRange(absolute.TimerFd!.AbsoluteNanoseconds - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000, 3000L * 1_000_000_000, 3600L * 1_000_000_000);
        Assert.Equal((1UL << 9) | (1UL << 11), Assert.Single(files, f => f.Kind == FileKind.SignalFd).SignalFd!.Mask);

        var epolls = files.Where(f => f.Kind == FileKind.Epoll).ToList();
        Assert.Equal(2, epolls.Count);
        var outer = Assert.Single(epolls, e => e.Epoll!.Registrations.Count == 5);
        Assert.Contains(outer.Epoll!.Registrations, r => r.Data == 0xfedcba9876543210 && files.Single(f => f.Fd == r.TargetFd).Kind == FileKind.SignalFd);
        Assert.Contains(outer.Epoll.Registrations, r => r.Data == 0x1111000000000001 && (r.Events & 0x80000000) != 0); // EPOLLET
        Assert.Contains(outer.Epoll.Registrations, r => r.Data == 5 && files.Single(f => f.Fd == r.TargetFd).Kind == FileKind.Epoll);

        var memfd = Assert.Single(files, f => f.Kind == FileKind.Memfd).Memfd!;
        Assert.Equal("kernelfds", memfd.Name);
        Assert.Equal(64L << 20, memfd.Size);
        Assert.Equal(2, memfd.Seals); // F_SEAL_SHRINK
        Assert.InRange(memfd.Contents.Sum(e => e.Data.Length), 1, 2 * 4096);
        Assert.Equal(3, image.Metadata.Regions.Count(r => r.Kind == RegionKind.SharedMemfd));
    }

    private static string RunUncheckpointed(string output)
    {
        using var run = ChildProcess.StartToFile(TestPrograms.Locate("kernelfds"), [$"{Rounds}"], output);
        Assert.Equal(new ChildExit(0, 0), run.WaitForExit(Patience));
        var text = File.ReadAllText(output);
        Assert.EndsWith("memfd seals 0x2 offset 100 far tail page flags ok\n", text, StringComparison.Ordinal);
        return text;
    }
}
