using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.StoppedProcessLabTests;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Signals that reach a process frozen for a move after its image was read, and before the frozen process is let go
/// of (the original at home before it becomes the deputy; a copy going home, or on through home, before its node kills
/// it), issue #17. Until 2026-12-07 such a signal sent to a copy going home died with the copy. Each window is held
/// open by omd.toml `checkpoint.test_hold_after_image_file` on the node that froze the process, and the signal is sent
/// once that omd says it holds it: nothing here waits on the clock. stopcatcher counts the SIGTSTPs its handler sees, so a terminal stop is seen arriving whatever
/// the process group it lands in (an orphaned group's kernel would discard a default one).
/// </summary>
public sealed class SignalsAfterImageLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State;

    /// <summary>A lab of <paramref name="nodes"/> without periodic checkpoints, node <paramref name="holder"/> holding
    /// by <paramref name="key"/> (a checkpoint.test_hold_* key) while the file returned exists.</summary>
    private static (TestLab Lab, string Hold) LabHolding(int nodes, int holder, string key)
    {
        var lab = TestLab.WithDaemons(nodes, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        try
        {
            var hold = Path.Combine(lab.Layout.NodeDirectory(holder), "hold");
            var config = File.ReadAllText(lab.Layout.NodeConfigFile(holder));
            File.WriteAllText(lab.Layout.NodeConfigFile(holder),
                config.Replace("[checkpoint]\n", $"[checkpoint]\n{key} = \"{hold}\"\n", StringComparison.Ordinal));
            Om.Run("lab", "restart", "--name", lab.Name, $"{holder}").Succeeded();
            for (var a = 1; a <= nodes; a++)
                for (var b = 1; b <= nodes; b++)
                {
                    var (from, to) = (a, b);
                    if (from != to)
                        Poll.Until(() => NodeProbe.StateSeen(lab, from, to) == "alive", Patience, $"node {from} to see node {to} alive");
                }
            return (lab, hold);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>`om migrate PID TARGET` from home; once node <paramref name="holder"/> logs <paramref name="held"/>,
    /// <paramref name="signal"/> goes to <paramref name="to"/>, then the hold is let go and the move must succeed.</summary>
    private static void MigrateSignallingWhileHeld(TestLab lab, string hold, int holder, string held, int pid, string target, int to, int signal)
    {
        File.WriteAllText(hold, "");
        var move = Task.Run(() => lab.Migrate(1, pid, target));
        try
        {
            lab.WaitForDaemonLog(holder, held, Patience);
            Signals.Kill(to, signal);
        }
        finally
        {
            File.Delete(hold);
        }
        Assert.True(move.Wait(Patience), $"om migrate {pid} {target} did not answer within {Patience.TotalSeconds} s");
        move.GetAwaiter().GetResult();
    }

    private static string AfterImage(int pid) => $"process {pid} frozen, its image read, held while";

    private static int CopyOn(TestLab lab, int pid, int node)
    {
        var row = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        Assert.Equal(("remote", node), (row.State, row.Where));
        return row.RemotePid;
    }

    /// <summary>stopcatcher's handler saw <paramref name="stops"/> SIGTSTPs: a line says so.</summary>
    private static void HandlerSees(ManagedRun run, int stops, string why) =>
        Poll.Until(() => run.Lines().Any(l => l.EndsWith($" stops={stops}", StringComparison.Ordinal)), Patience,
            $"stopcatcher's handler to have seen {stops} SIGTSTP {why}");

    private static void EndsWithOneStop(ManagedRun run, int ticks)
    {
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var lines = run.Lines();
        Assert.Equal(ticks, lines.Count);
        Assert.EndsWith(" stops=1", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_stop_sent_to_a_copy_after_its_image_home_was_read_stops_the_process_at_home_and_its_parent_sees_it()
    {
        var (lab, hold) = LabHolding(2, 2, "test_hold_after_image_file");
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "400", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = CopyOn(lab, run.Pid, 2);
        run.WaitForLines(run.Lines().Count + 3);

        MigrateSignallingWhileHeld(lab, hold, 2, AfterImage(copy), run.Pid, "home", copy, Signals.SIGSTOP);
        lab.WaitForDaemonLog(1, $"process {run.Pid}: signals 19 reached its copy on node 2 after its image home was read", Patience);
        Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        Poll.Until(() => !Signals.Exists(copy), Patience, $"the copy {copy} to end on node 2 after the trip home");

        ParentSeesStop(run, "sent to its copy after its image home was read");
        StaysStopped(run.Pid, run, "at home after a stop sent to its copy after its image home was read");
        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT at home");
        run.WaitForLines(before + 5);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "400"), run.Lines());
    }

    [Fact]
    public void A_SIGTSTP_sent_to_a_copy_after_its_image_home_was_read_reaches_the_process_at_home()
    {
        var (lab, hold) = LabHolding(2, 2, "test_hold_after_image_file");
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("stopcatcher"), "catch", "300", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = CopyOn(lab, run.Pid, 2);
        run.WaitForLines(run.Lines().Count + 3);
        Assert.EndsWith(" stops=0", run.Lines()[^1], StringComparison.Ordinal);

        MigrateSignallingWhileHeld(lab, hold, 2, AfterImage(copy), run.Pid, "home", copy, Signals.SIGTSTP);
        HandlerSees(run, 1, "sent to its copy after its image home was read");
        Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        EndsWithOneStop(run, 300);
    }

    [Fact]
    public void A_SIGTSTP_sent_to_a_process_after_its_image_was_read_for_its_move_away_reaches_its_copy_once()
    {
        var (lab, hold) = LabHolding(2, 1, "test_hold_after_image_file");
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("stopcatcher"), "catch", "300", "50");
        run.WaitForLines(3);

        MigrateSignallingWhileHeld(lab, hold, 1, AfterImage(run.Pid), run.Pid, "2", run.Pid, Signals.SIGTSTP);
        CopyOn(lab, run.Pid, 2);
        HandlerSees(run, 1, "sent after its image was read for its move away");
        EndsWithOneStop(run, 300);
    }

    [Fact]
    public void A_stop_sent_to_a_process_after_its_image_was_read_for_its_move_away_stops_its_copy_and_its_parent_sees_it()
    {
        var (lab, hold) = LabHolding(2, 1, "test_hold_after_image_file");
        using var _ = lab;
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "400", "50");
        run.WaitForLines(3);

        MigrateSignallingWhileHeld(lab, hold, 1, AfterImage(run.Pid), run.Pid, "2", run.Pid, Signals.SIGSTOP);
        var copy = CopyOn(lab, run.Pid, 2);
        ParentSeesStop(run, "sent after its image was read for its move away");
        StaysStopped(copy, run, "on node 2 after a stop sent after its image was read");
        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its deputy");
        run.WaitForLines(before + 5);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "400"), run.Lines());
    }

    [Fact]
    public void A_process_stopped_at_home_and_moved_on_from_node_2_to_node_3_stays_stopped_and_resumes_on_SIGCONT_with_its_output_whole()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "400", "50");
        run.WaitForLines(3);
        Signals.Kill(run.Pid, Signals.SIGSTOP);
        ParentSeesStop(run, "sent at home");
        StaysStopped(run.Pid, run, "at home");

        lab.Migrate(1, run.Pid, "2");
        var second = CopyOn(lab, run.Pid, 2);
        StaysStopped(second, run, "on node 2");
        Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) while its copy is stopped on node 2");

        lab.Migrate(1, run.Pid, "3");
        var third = CopyOn(lab, run.Pid, 3);
        Poll.Until(() => !Signals.Exists(second), Patience, $"the copy {second} to end on node 2 after the move on");
        StaysStopped(third, run, "on node 3 after its move on while stopped");
        Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) while its copy is stopped on node 3");

        var before = run.Lines().Count;
        Signals.Kill(run.Pid, Signals.SIGCONT);
        ParentSeesContinue(run, "after SIGCONT to its deputy, its copy on node 3");
        run.WaitForLines(before + 5);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "400"), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }
}
