using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.StoppedProcessLabTests;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A SIGSTOP sent to a process while it is frozen for a trip (issue #17): once the trip succeeds it is stopped where it
/// runs, home stops with it and its parent's wait(WUNTRACED) sees the stop. Until 2026-12-07 the stop was sent again
/// only to a process let go, and a move that succeeds lets go of none: the process ran on as if never stopped. The
/// freeze is held open by omd.toml `checkpoint.test_hold_file` on the node that freezes the process, and the stop is
/// sent once that omd says it holds it: nothing here waits on the clock.
/// </summary>
public sealed class StopDuringTripLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State;

    /// <summary>A lab of two nodes without periodic checkpoints (the only freeze is the trip's), node
    /// <paramref name="holder"/> holding every freeze while the file returned exists.</summary>
    internal static (TestLab Lab, string Hold) LabHoldingFreezesOn(int holder)
    {
        var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        try
        {
            var hold = Path.Combine(lab.Layout.NodeDirectory(holder), "hold-freeze");
            var config = File.ReadAllText(lab.Layout.NodeConfigFile(holder));
            File.WriteAllText(lab.Layout.NodeConfigFile(holder),
                config.Replace("[checkpoint]\n", $"[checkpoint]\ntest_hold_file = \"{hold}\"\n", StringComparison.Ordinal));
            Om.Run("lab", "restart", "--name", lab.Name, $"{holder}").Succeeded();
            Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive" && NodeProbe.StateSeen(lab, 2, 1) == "alive", Patience,
                "nodes 1 and 2 to see each other alive");
            return (lab, hold);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>`om migrate PID TARGET` from home while <paramref name="frozen"/> (the process as node
    /// <paramref name="holder"/> knows it) is held frozen there for the trip: kill -STOP of it, then the freeze let go.</summary>
    private static void MigrateStoppingItWhileFrozen(TestLab lab, string hold, int holder, int pid, int frozen, string target)
    {
        File.WriteAllText(hold, "");
        var move = Task.Run(() => lab.Migrate(1, pid, target));
        try
        {
            lab.WaitForDaemonLog(holder, $"process {frozen} frozen for a checkpoint, held while", Patience);
            Assert.Equal('t', State(frozen));
            Signals.Kill(frozen, Signals.SIGSTOP);
        }
        finally
        {
            File.Delete(hold);
        }
        Assert.True(move.Wait(Patience), $"om migrate {pid} {target} did not answer within {Patience.TotalSeconds} s");
        move.GetAwaiter().GetResult();
    }

    /// <summary>SIGCONT to the process at home (its deputy, if away): it goes on, its parent sees it, and ended by the test
    /// (memticker's "usr1") it ends whole.</summary>
    private static void ContinuesAndEndsWhole(TestLab lab, ManagedRun run)
    {
        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to it at home");
        run.WaitForLines(before + 5);
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_stop_sent_while_a_process_is_frozen_for_its_move_away_stops_its_copy_its_deputy_and_its_parent_sees_it()
    {
        var (lab, hold) = LabHoldingFreezesOn(1);
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);

        MigrateStoppingItWhileFrozen(lab, hold, 1, run.Pid, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        Assert.NotEqual(0, copy);

        // The copy arrives stopped and stays so; the deputy stops with it and the parent, told of no stop before, is now.
        ParentSeesStop(run, "sent while it was frozen for its move");
        Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) though its parent was told it stopped");
        StaysStopped(copy, run, "on node 2 after a stop sent while it was frozen for its move");
        ContinuesAndEndsWhole(lab, run);
    }

    [Fact]
    public void A_stop_sent_to_a_copy_while_it_is_frozen_for_its_trip_home_stops_it_at_home_and_its_parent_sees_it()
    {
        var (lab, hold) = LabHoldingFreezesOn(2);
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        using var copyFd = Linux.PidFd.Open(copy);
        Assert.NotEqual(0, copy);
        run.WaitForLines(run.Lines().Count + 3);

        MigrateStoppingItWhileFrozen(lab, hold, 2, run.Pid, copy, "home");
        Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        Assert.False(copyFd.Exists, $"the copy {copy} still exists on node 2 after the trip home");

        // Home, stopped: its parent, told of no stop before, sees this one.
        ParentSeesStop(run, "sent to its copy while it was frozen for its trip home");
        StaysStopped(run.Pid, run, "at home after a stop sent while it was frozen for its trip home");
        ContinuesAndEndsWhole(lab, run);
    }
}
