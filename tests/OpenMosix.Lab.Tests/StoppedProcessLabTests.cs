using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A process in a group-stop (kill -STOP, ^Z) moves, is checkpointed and comes home stopped, and SIGCONT to it (its
/// deputy at home while it is away) resumes it wherever it is (issue #17). Until 2026-12-07 no stopped copy could be
/// checkpointed: the freeze's injected calls stopped again with the group-stop.
/// </summary>
public sealed class StoppedProcessLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State;

    /// <summary>Holds while <paramref name="pid"/> stays in state T and the process writes nothing, for 1 s.</summary>
    internal static void StaysStopped(int pid, ManagedRun run, string where)
    {
        Poll.Until(() => State(pid) == 'T', Patience, $"the process to be stopped {where}");
        var lines = run.Lines().Count;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < until)
        {
            Assert.True(State(pid) == 'T', $"process {pid} ran again {where} (state {State(pid)})");
            Thread.Sleep(50);
        }
        Assert.Equal(lines, run.Lines().Count);
    }

    [Fact]
    public void A_stopped_process_moves_stopped_is_checkpointed_stopped_resumes_on_SIGCONT_and_comes_home_stopped_with_its_output_whole()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);

        // Stopped at home, then moved: the copy arrives stopped and stays so.
        Signals.Kill(run.Pid, Signals.SIGSTOP);
        Poll.Until(() => State(run.Pid) == 'T', Patience, "the process to stop at home");
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        using var copyFd = Linux.PidFd.Open(copy);
        Assert.NotEqual(0, copy);
        StaysStopped(copy, run, "on node 2 after its move");
        // Checkpointed while stopped (the first whole, the second merged into it), and still stopped after.
        CheckpointRestartLabTests.WaitForCheckpoints(lab, run.Pid);
        StaysStopped(copy, run, "on node 2 after its checkpoints");

        // SIGCONT to the deputy resumes the copy on node 2.
        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        run.WaitForLines(before + 10);

        // Stopped while away (kill -STOP of its deputy): the copy and the deputy stop, and its parent sees it stopped.
        Signals.Kill(run.Pid, Signals.SIGSTOP);
        StaysStopped(copy, run, "on node 2 after SIGSTOP to its deputy");
        Poll.Until(() => Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WUNTRACED) is { Stopped: true } s && s.StopSignal == Signals.SIGSTOP,
            Patience, "its parent to see it stopped by SIGSTOP");
        CheckpointRestartLabTests.WaitForCheckpoints(lab, run.Pid);

        // Home, still stopped, until SIGCONT.
        lab.Migrate(1, run.Pid, "home");
        Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        Assert.False(copyFd.Exists, $"the copy {copy} still exists on node 2 after the trip home");
        StaysStopped(run.Pid, run, "at home after its trip home");
        Signals.Kill(run.Pid, Signals.SIGCONT);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    /// <summary>The state of the deputy at home as `ps` shows it: t or T when stopped (a traced deputy is in a tracing
    /// stop, its parent told of the group-stop), S in its pause loop.</summary>
    internal static bool DeputyStopped(int pid) => State(pid) is 'T' or 't';

    internal static void ParentSeesStop(ManagedRun run, string why) =>
        Poll.Until(() => Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WUNTRACED) is { Stopped: true } s && s.StopSignal == Signals.SIGSTOP,
            Patience, $"its parent to see it stopped by SIGSTOP {why}");

    internal static void ParentSeesContinue(ManagedRun run, string why) =>
        Poll.Until(() => Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WCONTINUED).Continued, Patience, $"its parent to see it continued {why}");

    [Fact]
    public void A_copy_stopped_and_continued_on_its_own_node_stops_and_continues_its_deputy_and_its_parent_sees_both()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        Assert.NotEqual(0, copy);
        run.WaitForLines(run.Lines().Count + 3);
        Assert.False(DeputyStopped(run.Pid), $"the deputy {run.Pid} is stopped (state {State(run.Pid)}) while its copy runs");

        // kill -STOP of the copy on node 2: the deputy stops with it, and its parent at home sees the stop.
        Signals.Kill(copy, Signals.SIGSTOP);
        ParentSeesStop(run, "sent to its copy on node 2");
        Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) though its parent was told it stopped");
        StaysStopped(copy, run, "on node 2 after SIGSTOP there");

        // kill -CONT of the copy there: the deputy goes on, its parent sees it continued, and the output flows again.
        var before = run.Lines().Count;
        Signals.Kill(copy, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its copy on node 2");
        run.WaitForLines(before + 5);
        Poll.Until(() => !DeputyStopped(run.Pid), Patience, "the deputy to leave its stop");

        // Stopped there again, continued from home (SIGCONT to the deputy, as `fg` or `bg` would): both go on.
        Signals.Kill(copy, Signals.SIGSTOP);
        ParentSeesStop(run, "sent to its copy on node 2 a second time");
        before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its deputy");
        run.WaitForLines(before + 5);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        var homeLog = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.Contains($"process {run.Pid}'s copy stopped by signal 19 on its node", homeLog, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} lost", homeLog, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stop_sent_to_a_copy_while_it_is_frozen_for_a_checkpoint_stops_it_its_deputy_and_its_parent_sees_it()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        // Node 2 holds a copy frozen for a checkpoint while this file exists (omd.toml, for tests only).
        var hold = Path.Combine(lab.Layout.NodeDirectory(2), "hold-freeze");
        var config = File.ReadAllText(lab.Layout.NodeConfigFile(2));
        File.WriteAllText(lab.Layout.NodeConfigFile(2), config.Replace("[checkpoint]\n", $"[checkpoint]\ntest_hold_file = \"{hold}\"\n", StringComparison.Ordinal));
        Om.Run("lab", "restart", "--name", lab.Name, "2").Succeeded();
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive" && NodeProbe.StateSeen(lab, 2, 1) == "alive", Patience, "nodes 1 and 2 to see each other alive");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        Assert.NotEqual(0, copy);
        run.WaitForLines(run.Lines().Count + 3);

        // The next periodic checkpoint freezes the copy and node 2 holds it; kill -STOP of the copy meanwhile.
        File.WriteAllText(hold, "");
        lab.WaitForDaemonLog(2, $"process {copy} frozen for a checkpoint, held while", TimeSpan.FromSeconds(60));
        Assert.Equal('t', State(copy));
        Signals.Kill(copy, Signals.SIGSTOP);
        File.Delete(hold);

        // Once let go the copy stops, home hears of it: the deputy stops and its parent sees the stop.
        ParentSeesStop(run, "sent to its copy while frozen for a checkpoint");
        Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) though its parent was told it stopped");
        StaysStopped(copy, run, "on node 2 after SIGSTOP while frozen");
        Assert.Contains($"process {run.Pid}'s copy stopped by signal 19 on its node", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);

        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its deputy");
        run.WaitForLines(before + 5);
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_moved_while_stopped_has_a_stopped_deputy_and_SIGCONT_to_its_copy_there_resumes_both_and_its_parent_sees_it()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);

        // Stopped at home (its parent takes the stop), then moved: the deputy is stopped too, and the parent is not
        // told of a second stop (the process never ran between).
        Signals.Kill(run.Pid, Signals.SIGSTOP);
        ParentSeesStop(run, "at home");
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        Assert.NotEqual(0, copy);
        StaysStopped(copy, run, "on node 2 after its move");
        Poll.Until(() => DeputyStopped(run.Pid), Patience, "the deputy at home to be stopped while its copy is");
        Assert.True(Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WUNTRACED) is { Stopped: false },
            "its parent was told of a stop a second time");

        // kill -CONT of the copy on node 2: the deputy goes on with it, its parent sees it continued, the output flows.
        var before = run.Lines().Count;
        Signals.Kill(copy, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its copy on node 2");
        run.WaitForLines(before + 5);
        Poll.Until(() => !DeputyStopped(run.Pid), Patience, "the deputy to leave its stop");

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        var homeLog = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.Contains($"process {run.Pid}'s copy continued on its node", homeLog, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} lost", homeLog, StringComparison.Ordinal);
    }
}
