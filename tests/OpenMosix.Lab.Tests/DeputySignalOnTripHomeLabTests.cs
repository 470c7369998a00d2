using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A signal sent to the deputy at home while its copy is frozen for its trip home, before its image (issue #17). Home
/// stops the deputy for the rebuild as soon as the image is announced and waits there for it; until 2026-12-07 a
/// `kill -TSTP` (or any signal) of the deputy then failed the trip ("unexpected stop (stopped by signal 20 event 0)"
/// in the rebuild into the deputy) and the process ran on where it was. Now the signal waits in the deputy's queue and
/// the process, home, gets it once let go, exactly once. The freeze on node 2 is held open by omd.toml
/// `checkpoint.test_hold_file`, and the signal is sent once node 2 says it holds it and home has stopped the deputy for
/// the rebuild: nothing here waits on the clock.
/// </summary>
public sealed class DeputySignalOnTripHomeLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State;

    /// <summary>A lab of two nodes without periodic checkpoints, node 2 holding each freeze while the file returned exists.</summary>
    private static (TestLab Lab, string Hold) LabHoldingFreezesOnNode2() => StopDuringTripLabTests.LabHoldingFreezesOn(2);

    /// <summary><paramref name="program"/> moved to node 2, running there.</summary>
    private static ManagedRun MovedToNode2(TestLab lab, params string[] program)
    {
        var run = lab.Managed(1, TestPrograms.Locate(program[0]), program[1..]);
        try
        {
            run.WaitForLines(3);
            lab.Migrate(1, run.Pid, "2");
            Assert.NotEqual(0, lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid);
            run.WaitForLines(run.Lines().Count + 3);
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>`om migrate PID home` while node 2 holds the copy frozen: once home has stopped the deputy for the rebuild,
    /// <paramref name="signal"/> to the deputy, then the freeze let go; the trip must succeed.</summary>
    private static void HomeSignallingTheDeputy(TestLab lab, string hold, ManagedRun run, int signal)
    {
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        using var copyFd = Linux.PidFd.Open(copy);
        File.WriteAllText(hold, "");
        var move = Task.Run(() => lab.Migrate(1, run.Pid, "home"));
        try
        {
            lab.WaitForDaemonLog(2, $"process {copy} frozen for a checkpoint, held while", Patience);
            // The image is announced before the copy freezes: home stops the deputy (a tracing stop) to rebuild it.
            Poll.Until(() => State(run.Pid) == 't', Patience, $"home to stop the deputy {run.Pid} for the rebuild");
            Signals.Kill(run.Pid, signal);
        }
        finally
        {
            File.Delete(hold);
        }
        Assert.True(move.Wait(Patience), $"om migrate {run.Pid} home did not answer within {Patience.TotalSeconds} s");
        move.GetAwaiter().GetResult();
        // Home (or ended there already: a SIGUSR1 ends memticker at once), not running on at node 2.
        var row = lab.Processes(1).Processes.SingleOrDefault(p => p.Pid == run.Pid);
        Assert.True(row is null || row.State == "home", $"process {run.Pid} is {row?.State} at node {row?.Where} after its trip home");
        Poll.Until(() => !copyFd.Exists, Patience, $"the copy {copy} to end on node 2 after the trip home");
        Assert.DoesNotContain("unexpected stop", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_SIGTSTP_to_the_deputy_while_its_copy_is_frozen_for_its_trip_home_stops_the_process_at_home_and_its_parent_sees_it()
    {
        var (lab, hold) = LabHoldingFreezesOnNode2();
        using var _ = lab;
        using var run = MovedToNode2(lab, "memticker", "16", TakenOverCopies.UntilEnded, "50");

        HomeSignallingTheDeputy(lab, hold, run, Signals.SIGTSTP);
        Poll.Until(() => Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WUNTRACED) is { Stopped: true } s && s.StopSignal == Signals.SIGTSTP,
            Patience, "its parent to see it stopped by SIGTSTP at home");
        StoppedProcessLabTests.StaysStopped(run.Pid, run, "at home after a SIGTSTP sent to its deputy during its trip home");

        Signals.Kill(run.Pid, Signals.SIGCONT);
        StoppedProcessLabTests.ParentSeesContinue(run, "after SIGCONT at home");
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
    }

    [Fact]
    public void A_SIGUSR1_to_the_deputy_while_its_copy_is_frozen_for_its_trip_home_reaches_the_process_at_home()
    {
        var (lab, hold) = LabHoldingFreezesOnNode2();
        using var _ = lab;
        using var run = MovedToNode2(lab, "memticker", "16", TakenOverCopies.UntilEnded, "50");

        // memticker ends on SIGUSR1: the signal reached it, at home, and its memory came home whole.
        HomeSignallingTheDeputy(lab, hold, run, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
    }

    [Fact]
    public void A_SIGTSTP_the_program_catches_sent_to_the_deputy_while_its_copy_is_frozen_for_its_trip_home_reaches_it_once()
    {
        var (lab, hold) = LabHoldingFreezesOnNode2();
        using var _ = lab;
        using var run = MovedToNode2(lab, "stopcatcher", "catch", "300", "50");
        Assert.EndsWith(" stops=0", run.Lines()[^1], StringComparison.Ordinal);

        // Caught, it stops nothing: its handler counts it, once, and the program goes on to its end.
        HomeSignallingTheDeputy(lab, hold, run, Signals.SIGTSTP);
        Poll.Until(() => run.Lines().Any(l => l.EndsWith(" stops=1", StringComparison.Ordinal)), Patience,
            "stopcatcher's handler to see the SIGTSTP sent to its deputy");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var lines = run.Lines();
        Assert.Equal(300, lines.Count);
        Assert.EndsWith(" stops=1", lines[^1], StringComparison.Ordinal);
    }
}
