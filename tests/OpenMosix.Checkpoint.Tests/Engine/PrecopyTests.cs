using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Pre-copy: a running process's memory is copied in rounds while it runs on (write tracking with userfaultfd
/// WP_ASYNC and PAGEMAP_SCAN), and the final checkpoint carries only what changed since. The rebuilt process must
/// be exactly the one an uninterrupted run gives, even when the process rewrote, discarded, grew and replaced its
/// memory between the rounds (churner does all of that every tick).
/// </summary>
public sealed class PrecopyTests
{
    [Fact]
    public void A_process_changing_its_memory_during_the_rounds_finishes_exactly_like_an_uninterrupted_run() =>
        // Held after 12 ticks (its 13th line, churner's HOLD), so that it outlives the rounds however slow the machine.
        // The final image holds far less than the process's memory: only what changed since the last round.
        PrecopiedEndsLikeUninterrupted("churner", ["24", "200", "15"], "12", 4, 3,
            final => Assert.True(final.Length < 12 << 20, $"final image of {final.Length} bytes for a 24 MiB process"));

    /// <summary>Issue #14: write tracking is per address space, so it sees every thread's writes. thr_compute's eight
    /// threads each rewrite their slice of a 16 MiB buffer from its previous contents every round: a write of any
    /// thread the rounds missed would leave a stale slice in the copy and change every later total.</summary>
    [Fact]
    public void A_process_whose_eight_threads_rewrite_their_memory_during_the_rounds_finishes_exactly_like_an_uninterrupted_run() =>
        PrecopiedEndsLikeUninterrupted("thr_compute", ["8", "16", "30", "100"], "9", 3, 2, _ => { });

    /// <summary>Runs <paramref name="program"/> beside a reference run; copies it in three pre-copy rounds while it
    /// prints <paramref name="linesPerRound"/> more lines after each, then the final image (killing it); the copy
    /// must end with the same output and exit 0. The copied run takes <paramref name="hold"/> as its last argument:
    /// it waits for SIGUSR1 once it has printed the last line the rounds wait for, so that it is still there for the
    /// final image however slow the machine; the copy is let go.</summary>
    private static void PrecopiedEndsLikeUninterrupted(string program, string[] arguments, string hold, int linesBefore, int linesPerRound, Action<MemoryStream> checkFinal)
    {
        using var dir = new TempDirectory();
        var path = TestPrograms.Locate(program);
        using var reference = ChildProcess.StartToFile(path, arguments, dir.File("expected"));
        using var child = ChildProcess.StartToFile(path, [.. arguments, hold], dir.File("out"));
        Poll.UntilLines(dir.File("out"), linesBefore, Patience);

        using var engine = new CheckpointEngine();
        using var session = engine.StartPrecopy(child.Pid);
        Assert.NotNull(session);
        PrecopyTarget? target = null;
        for (var round = 1; round <= 3; round++)
        {
            using var stream = new MemoryStream();
            using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
            stream.Position = 0;
            using var reader = new ImageReader(stream);
            if (target is null) target = engine.BeginPrecopyRestore(reader, new RestoreOptions(TryOriginalPid: false));
            else engine.ContinuePrecopyRestore(target, reader);
            // The process runs on between rounds and changes more of its memory. The counts are absolute, so that
            // the last one is where it holds, however far ahead of the test it ran.
            Poll.UntilLines(dir.File("out"), linesBefore + round * linesPerRound, Patience);
        }
        Assert.Equal(3, target!.Rounds);
        Assert.True(Signals.Exists(child.Pid), "the original ran on through the rounds");

        var final = new MemoryStream();
        using (var writer = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true)))
            engine.Checkpoint(child.Pid, writer, new DumpOptions(AfterDump.Kill) { Precopy = session });
        Assert.Equal(9, child.WaitForExit(Patience).Signal);
        checkFinal(final);
        final.Position = 0;
        using var finalReader = new ImageReader(final);
        var restored = engine.FinishPrecopyRestore(target, finalReader, new RestoreOptions(TryOriginalPid: false));
        Assert.Equal(target.Pid, restored.Pid);
        Signals.Kill(restored.Pid, Signals.SIGUSR1);

        var exit = engine.WaitForExitWithin(restored, Patience);
        Assert.Equal(new ExitStatus(0, 0), exit);
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExit(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void A_process_whose_pre_copy_is_abandoned_runs_on_untouched_and_leaves_no_tracking_behind()
    {
        using var dir = new TempDirectory();
        var churner = TestPrograms.Locate("churner");
        string[] arguments = ["8", "150", "10"];
        using var reference = ChildProcess.StartToFile(churner, arguments, dir.File("expected"));
        // Held after 2 ticks (churner's HOLD), so that it outlives the round however slow the machine.
        using var child = ChildProcess.StartToFile(churner, [.. arguments, "2"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);

        using var engine = new CheckpointEngine();
        PrecopyTarget target;
        using (var session = engine.StartPrecopy(child.Pid))
        {
            Assert.NotNull(session);
            using var stream = new MemoryStream();
            using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
            stream.Position = 0;
            using var reader = new ImageReader(stream);
            target = engine.BeginPrecopyRestore(reader, new RestoreOptions(TryOriginalPid: false));
            Assert.Contains(File.ReadLines($"/proc/{child.Pid}/smaps"), l => l.StartsWith("VmFlags:", StringComparison.Ordinal) && l.Split(' ').Contains("uw"));
        }
        // A pidfd, not the PID: once reaped, the stub's PID may name another process at once (restorers beside this test
        // rewind the PID allocator).
        using (var stub = PidFd.Open(target.Pid))
        {
            engine.AbandonPrecopyRestore(target);
            Assert.True(stub.HasEnded, "the stub is gone");
        }
        Assert.DoesNotContain(File.ReadLines($"/proc/{child.Pid}/smaps"), l => l.StartsWith("VmFlags:", StringComparison.Ordinal) && l.Split(' ').Contains("uw"));
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExit(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void A_final_image_of_a_pre_copy_is_refused_by_a_plain_restore()
    {
        using var dir = new TempDirectory();
        // Held after its first tick (churner's HOLD): the round and the final image find it however slow the machine.
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("churner"), ["4", "200", "10", "1"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var engine = new CheckpointEngine();
        using var session = engine.StartPrecopy(child.Pid);
        Assert.NotNull(session);
        using (var round = new ImageWriter(Stream.Null)) session.WriteRound(round);
        var final = new MemoryStream();
        using (var writer = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true)))
            engine.Checkpoint(child.Pid, writer, new DumpOptions(AfterDump.Resume) { Precopy = session });
        final.Position = 0;
        using var reader = new ImageReader(final);
        var e = Assert.Throws<RestoreException>(() => engine.Restore(reader, new RestoreOptions(TryOriginalPid: false)));
        Assert.Contains("pre-copy", e.Message, StringComparison.Ordinal);
        Assert.True(Signals.Exists(child.Pid));
        child.Kill();
    }
}
