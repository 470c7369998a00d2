using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A copy stopped or continued on its own node (issue #17): the engine that watches the copy's exit hears its stops and
/// resumptions, and the engine at home stops or resumes the deputy without taking that for a signal to forward.
/// </summary>
public sealed class JobControlTests
{
    private static char State(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2][0];

    /// <summary>sleeper printing a line every 20 ms into <paramref name="output"/>, once it has printed two.</summary>
    private static ChildProcess StartSleeper(string output)
    {
        var child = ChildProcess.StartToFile(TestPrograms.Locate("sleeper"), ["1000", "20"], output);
        try
        {
            Poll.Until(() => Poll.CountLines(output) >= 2, EngineFixtures.Patience, "the program's first lines");
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>The job-control changes the engine reports for <paramref name="pid"/>, in order (lock it to read).</summary>
    private static List<int> WatchJobControl(CheckpointEngine engine, int pid)
    {
        var changes = new List<int>();
        engine.WatchJobControl(pid, change => { lock (changes) changes.Add(change); });
        return changes;
    }

    [Fact]
    public async Task A_watched_process_s_stops_and_resumptions_are_reported_once_each_and_its_exit_still_ends_the_watch()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = StartSleeper(output);
        using var engine = new CheckpointEngine();
        var exit = engine.WhenExited(child.Pid);
        var changes = WatchJobControl(engine, child.Pid);

        Signals.Kill(child.Pid, Signals.SIGSTOP);
        Poll.Until(() => { lock (changes) return changes.Count >= 1; }, EngineFixtures.Patience, "the stop to be reported");
        Signals.Kill(child.Pid, Signals.SIGCONT);
        Poll.Until(() => { lock (changes) return changes.Count >= 2; }, EngineFixtures.Patience, "the resumption to be reported");
        Signals.Kill(child.Pid, Signals.SIGKILL);

        Assert.Equal(new ExitStatus(0, Signals.SIGKILL), await exit.WaitAsync(EngineFixtures.Patience, TestContext.Current.CancellationToken));
        lock (changes) Assert.Equal([Signals.SIGSTOP, 0], changes);
    }

    [Theory]
    [InlineData(AfterDump.KeepFrozen)]
    [InlineData(AfterDump.Resume)]
    public async Task A_stop_sent_while_the_process_is_frozen_for_a_checkpoint_stops_it_once_let_go_and_is_reported(AfterDump after)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = StartSleeper(output);
        using var engine = new CheckpointEngine();
        var exit = engine.WhenExited(child.Pid);
        var changes = WatchJobControl(engine, child.Pid);

        // Sent once it is frozen, before the calls the checkpoint injects: until 2026-12-07 the first of them met the
        // SIGSTOP, the checkpoint failed and the stop was lost with it.
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(after) { WhileFrozen = pid => Signals.Kill(pid, Signals.SIGSTOP) });
        if (after == AfterDump.KeepFrozen) engine.Thaw(child.Pid);

        Poll.Until(() => { lock (changes) return changes.Count >= 1; }, EngineFixtures.Patience, "the stop to be reported");
        Assert.Equal('T', State(child.Pid));
        var printed = Poll.CountLines(output);
        Signals.Kill(child.Pid, Signals.SIGCONT);
        Poll.Until(() => Poll.CountLines(output) > printed, EngineFixtures.Patience, "the program to go on after SIGCONT");
        Poll.Until(() => { lock (changes) return changes.Count >= 2; }, EngineFixtures.Patience, "the resumption to be reported");
        Signals.Kill(child.Pid, Signals.SIGKILL);
        Assert.Equal(new ExitStatus(0, Signals.SIGKILL), await exit.WaitAsync(EngineFixtures.Patience, TestContext.Current.CancellationToken));
        lock (changes) Assert.Equal([Signals.SIGSTOP, 0], changes);
    }

    [Fact]
    public void A_stop_sent_while_the_process_is_frozen_for_its_move_is_in_its_image_and_its_deputy_stops_without_forwarding_it()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = StartSleeper(output);
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal.Number); };

        // Until 2026-12-07 the stop was sent again only when the process was let go: a move that succeeds lets go of
        // none, so its copy ran on and its deputy with it.
        var result = engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen) { WhileFrozen = pid => Signals.Kill(pid, Signals.SIGSTOP) });
        Assert.Equal(Signals.SIGSTOP, result.StoppedBy);
        engine.MakeDeputy(child.Pid);
        Poll.Until(() => State(child.Pid) == 't', EngineFixtures.Patience, "the deputy to stop with its copy");

        // Its copy starts stopped (the image says so): the stop is not forwarded to it a second time. The copy
        // continued there, the deputy goes on, and what is sent to it next is the first signal reported.
        engine.FollowCopyInDeputy(child.Pid, 0);
        Poll.Until(() => State(child.Pid) == 'S', EngineFixtures.Patience, "the deputy back in its pause loop");
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Poll.Until(() => { lock (signals) return signals.Count > 0; }, EngineFixtures.Patience, "SIGUSR1 to be reported");
        lock (signals) Assert.Equal([Signals.SIGUSR1], signals);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    [Fact]
    /// <remarks>What its parent sees is tested in the lab (StoppedProcessLabTests): here the test is the deputy's parent
    /// and its tracer's process at once, and a wait of its own for the deputy would take the tracer's stops.</remarks>
    public void A_deputy_follows_its_copy_s_stop_and_resumption_and_neither_is_reported_for_forwarding()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = StartSleeper(output);
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal.Number); };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        // The copy stopped on its node: the deputy stops (a tracing stop, 't', in its group-stop).
        engine.FollowCopyInDeputy(child.Pid, Signals.SIGSTOP);
        Poll.Until(() => State(child.Pid) == 't', EngineFixtures.Patience, "the deputy to stop");
        // Reported again (a stop home forwarded, coming back from the copy's node): the deputy is stopped already.
        engine.FollowCopyInDeputy(child.Pid, Signals.SIGSTOP);

        // The copy continued there: so does the deputy.
        engine.FollowCopyInDeputy(child.Pid, 0);
        Poll.Until(() => State(child.Pid) == 'S', EngineFixtures.Patience, "the deputy back in its pause loop");

        // Signals sent to it are still reported, in order: none was before this one.
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Poll.Until(() => { lock (signals) return signals.Count > 0; }, EngineFixtures.Patience, "SIGUSR1 to be reported");
        lock (signals) Assert.Equal([Signals.SIGUSR1], signals);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    [Fact]
    public void A_signal_pending_when_the_image_for_a_move_away_is_read_goes_with_the_image_and_is_not_forwarded_again()
    {
        using var dir = new TempDirectory();
        using var child = StartSleeper(dir.File("out"));
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal.Number); };

        // Sent while frozen, before its queues are read: the copy gets it from the image. The original's queue still
        // holds it (reading a queue takes nothing out of it), and the deputy made of the original must not report it.
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.KeepFrozen) { WhileFrozen = pid => Signals.Kill(pid, Signals.SIGUSR1) });
        Assert.Contains(image.Metadata.Signals.Pending, p => p.Number == Signals.SIGUSR1);
        engine.MakeDeputy(child.Pid);

        // Reported in order: had the one in the image been reported too, it would come first.
        Signals.Kill(child.Pid, Signals.SIGUSR2);
        Poll.Until(() => { lock (signals) return signals.Count > 0; }, EngineFixtures.Patience, "SIGUSR2 to be reported");
        lock (signals) Assert.Equal([Signals.SIGUSR2], signals);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    [Fact]
    public void Signals_that_reach_a_process_kept_frozen_after_its_image_was_read_are_told_apart_from_those_in_its_image()
    {
        using var dir = new TempDirectory();
        using var child = StartSleeper(dir.File("out"));
        using var engine = new CheckpointEngine();
        // Sent while frozen, before its queues are read: in the image, not one of those that came after.
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen) { WhileFrozen = pid => Signals.Kill(pid, Signals.SIGUSR2) });
        Assert.Empty(engine.SignalsSinceImage(child.Pid));

        Signals.Kill(child.Pid, Signals.SIGTERM);
        Signals.Kill(child.Pid, Signals.SIGUSR2);
        Signals.Kill(child.Pid, 35);
        Signals.Kill(child.Pid, 35);
        // A standard signal already queued is not queued twice; each real-time one is.
        Assert.Equal([Signals.SIGTERM, 35, 35], engine.SignalsSinceImage(child.Pid));

        engine.KillFrozen(child.Pid);
        Assert.Empty(engine.SignalsSinceImage(child.Pid));
    }

    /// <summary>
    /// A SIGCONT sent to the deputy at home while its copy's stop is on its way home (queued, to be forwarded to the
    /// copy) must not be discarded by the deputy's following that stop: a stop signal sent discards a pending SIGCONT,
    /// so the copy stayed stopped and the deputy with it. The deputy follows by the marker of its own stops
    /// (DeputyKeeper.SelfStops) instead: the SIGCONT is taken first and forwarded, and no stop is made. The SIGCONT is
    /// sent, and the stop followed, from the report of a SIGUSR1 on the tracer thread, while the deputy is held in that
    /// signal's delivery-stop: it is certainly queued when the stop is followed.
    /// </summary>
    [Fact]
    public void A_SIGCONT_queued_for_the_deputy_when_it_follows_its_copy_s_stop_is_forwarded_and_leaves_it_running()
    {
        using var dir = new TempDirectory();
        using var child = StartSleeper(dir.File("out"));
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        engine.DeputySignal += (pid, signal) =>
        {
            lock (signals) signals.Add(signal.Number);
            if (signal.Number != Signals.SIGUSR1) return;
            Signals.Kill(pid, Signals.SIGCONT);
            engine.FollowCopyInDeputy(pid, Signals.SIGSTOP);
        };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Poll.Until(() => { lock (signals) return signals.Count >= 2; }, EngineFixtures.Patience, "the SIGCONT to be reported for forwarding");
        lock (signals) Assert.Equal([Signals.SIGUSR1, Signals.SIGCONT], signals);
        // The marker taken (nothing pending) and the deputy back in its pause loop, not stopped.
        Poll.Until(() => OpenMosix.Linux.Proc.ProcFs.ReadStatus(child.Pid).ShdPnd == 0 && State(child.Pid) == 'S', EngineFixtures.Patience,
            "the deputy to take the marker and wait in its pause loop");
        Assert.Equal('S', State(child.Pid));
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }
}
