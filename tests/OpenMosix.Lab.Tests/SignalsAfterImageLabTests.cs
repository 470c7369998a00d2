using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.StoppedProcessLabTests;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Three nodes without balancing or periodic checkpoints (the only freezes are the tests' moves), shared by the tests
/// of <see cref="SignalsAfterImageLabTests"/> one after the other: nodes 1 and 2 each hold a process frozen after its
/// image was read (omd.toml `checkpoint.test_hold_after_image_file`) while their own hold file exists, which only a
/// test's move creates, and always removes. A lab per test cost each test a lab's start, a restart of the holder's omd
/// and the lab's removal (issue #12).
/// </summary>
public sealed class SignalsAfterImageLab : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    internal TestLab Lab { get; }

    public SignalsAfterImageLab()
    {
        Lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        try
        {
            foreach (var holder in new[] { 1, 2 })
            {
                var config = File.ReadAllText(Lab.Layout.NodeConfigFile(holder));
                File.WriteAllText(Lab.Layout.NodeConfigFile(holder),
                    config.Replace("[checkpoint]\n", $"[checkpoint]\ntest_hold_after_image_file = \"{Hold(holder)}\"\n"
                        + $"test_hold_before_end_file = \"{HoldBeforeEnd(holder)}\"\n", StringComparison.Ordinal));
                Om.Run("lab", "restart", "--name", Lab.Name, $"{holder}").Succeeded();
            }
            for (var a = 1; a <= 3; a++)
                for (var b = 1; b <= 3; b++)
                {
                    var (from, to) = (a, b);
                    if (from != to)
                        Poll.Until(() => NodeProbe.StateSeen(Lab, from, to) == "alive", Patience, $"node {from} to see node {to} alive");
                }
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    /// <summary>The file whose existence makes node <paramref name="holder"/> (1 or 2) hold a process it froze.</summary>
    internal string Hold(int holder) => Path.Combine(Lab.Layout.NodeDirectory(holder), "hold");

    /// <summary>The file whose existence makes node <paramref name="holder"/> hold a copy that went on from there just
    /// before it ends it (omd.toml `checkpoint.test_hold_before_end_file`).</summary>
    internal string HoldBeforeEnd(int holder) => Path.Combine(Lab.Layout.NodeDirectory(holder), "hold-before-end");

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// Signals that reach a process frozen for a move after its image was read, and before the frozen process is let go
/// of (the original at home before it becomes the deputy; a copy going home, or on through home, before its node kills
/// it), issue #17. Until 2026-12-07 such a signal sent to a copy going home died with the copy. Each window is held
/// open by omd.toml `checkpoint.test_hold_after_image_file` on the node that froze the process, and the signal is sent
/// once that omd says it holds it: nothing here waits on the clock. stopcatcher counts the SIGTSTPs its handler sees, so a terminal stop is seen arriving whatever
/// the process group it lands in (an orphaned group's kernel would discard a default one). The programs tick until the
/// test ends them (SIGUSR1 to their PID at home), and what they printed is checked tick by tick.
/// </summary>
public sealed class SignalsAfterImageLabTests(SignalsAfterImageLab fixture) : IClassFixture<SignalsAfterImageLab>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State;

    private TestLab Lab => fixture.Lab;

    private static string Memticker => TestPrograms.Locate("memticker");

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

    /// <summary>stopcatcher, ended by the test once it ticks on, printed every tick once and in order, and its handler
    /// saw one SIGTSTP.</summary>
    private static void EndsWithOneStop(ManagedRun run)
    {
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        var lines = run.Lines();
        Assert.All(lines.Select((line, i) => (line, i)), l => Assert.StartsWith($"tick {l.i} stops=", l.line, StringComparison.Ordinal));
        Assert.EndsWith(" stops=1", lines[^1], StringComparison.Ordinal);
    }

    /// <summary>memticker, ticking again, ended by the test: its output is that of an unmoved run as long.</summary>
    private static void EndsWhole(ManagedRun run)
    {
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
    }

    [Fact]
    public void A_stop_sent_to_a_copy_after_its_image_home_was_read_stops_the_process_at_home_and_its_parent_sees_it()
    {
        Lab.ExplainingFailure(() =>
        {
            var (lab, hold) = (Lab, fixture.Hold(2));
            using var run = lab.Managed(1, Memticker, "16", TakenOverCopies.UntilEnded, "50");
            run.WaitForLines(3);
            lab.Migrate(1, run.Pid, "2");
            var copy = CopyOn(lab, run.Pid, 2);
            using var copyFd = Linux.PidFd.Open(copy);
            run.WaitForLines(run.Lines().Count + 3);

            MigrateSignallingWhileHeld(lab, hold, 2, AfterImage(copy), run.Pid, "home", copy, Signals.SIGSTOP);
            lab.WaitForDaemonLog(1, $"process {run.Pid}: signals 19 reached its copy on node 2 after its image home was read", Patience);
            Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
            Poll.Until(() => !copyFd.Exists, Patience, $"the copy {copy} to end on node 2 after the trip home");

            ParentSeesStop(run, "sent to its copy after its image home was read");
            StaysStopped(run.Pid, run, "at home after a stop sent to its copy after its image home was read");
            var before = run.Lines().Count;
            Signals.Kill(run.Pid, Signals.SIGCONT);
            ParentSeesContinue(run, "after SIGCONT at home");
            run.WaitForLines(before + 5);
            EndsWhole(run);
        });
    }

    [Fact]
    public void A_SIGTSTP_sent_to_a_copy_after_its_image_home_was_read_reaches_the_process_at_home() =>
        SigtstpToACopyGoingHomeReachesIt(fixture.Hold(2), AfterImage, "sent to its copy after its image home was read");

    /// <summary>Held by omd.toml `checkpoint.test_hold_before_end_file` on node 2 (the copy's queues were read before this
    /// moment until 2026-12-08, so a signal sent in it died with the copy).</summary>
    [Fact]
    public void A_SIGTSTP_sent_to_a_copy_just_before_its_node_ends_it_reaches_the_process_at_home() =>
        SigtstpToACopyGoingHomeReachesIt(fixture.HoldBeforeEnd(2), copy => $"process {copy} went on from here, about to be ended, held while",
            "sent to its copy just before its node ended it");

    /// <summary>A stopcatcher moved to node 2 and brought home with node 2 held at <paramref name="hold"/> (its log line
    /// <paramref name="held"/> of the copy): the SIGTSTP sent to the copy then is caught once, at home.</summary>
    private void SigtstpToACopyGoingHomeReachesIt(string hold, Func<int, string> held, string when)
    {
        Lab.ExplainingFailure(() =>
        {
            var lab = Lab;
            using var run = lab.Managed(1, TestPrograms.Locate("stopcatcher"), "catch", TakenOverCopies.UntilEnded, "50");
            run.WaitForLines(3);
            lab.Migrate(1, run.Pid, "2");
            var copy = CopyOn(lab, run.Pid, 2);
            run.WaitForLines(run.Lines().Count + 3);
            Assert.EndsWith(" stops=0", run.Lines()[^1], StringComparison.Ordinal);

            MigrateSignallingWhileHeld(lab, hold, 2, held(copy), run.Pid, "home", copy, Signals.SIGTSTP);
            HandlerSees(run, 1, when);
            Assert.Equal("home", lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
            EndsWithOneStop(run);
        });
    }

    [Fact]
    public void A_SIGTSTP_sent_to_a_process_after_its_image_was_read_for_its_move_away_reaches_its_copy_once()
    {
        Lab.ExplainingFailure(() =>
        {
            var (lab, hold) = (Lab, fixture.Hold(1));
            using var run = lab.Managed(1, TestPrograms.Locate("stopcatcher"), "catch", TakenOverCopies.UntilEnded, "50");
            run.WaitForLines(3);

            MigrateSignallingWhileHeld(lab, hold, 1, AfterImage(run.Pid), run.Pid, "2", run.Pid, Signals.SIGTSTP);
            CopyOn(lab, run.Pid, 2);
            HandlerSees(run, 1, "sent after its image was read for its move away");
            EndsWithOneStop(run);
        });
    }

    [Fact]
    public void A_stop_sent_to_a_process_after_its_image_was_read_for_its_move_away_stops_its_copy_and_its_parent_sees_it()
    {
        Lab.ExplainingFailure(() =>
        {
            var (lab, hold) = (Lab, fixture.Hold(1));
            using var run = lab.Managed(1, Memticker, "16", TakenOverCopies.UntilEnded, "50");
            run.WaitForLines(3);

            MigrateSignallingWhileHeld(lab, hold, 1, AfterImage(run.Pid), run.Pid, "2", run.Pid, Signals.SIGSTOP);
            var copy = CopyOn(lab, run.Pid, 2);
            ParentSeesStop(run, "sent after its image was read for its move away");
            StaysStopped(copy, run, "on node 2 after a stop sent after its image was read");
            var before = run.Lines().Count;
            Signals.Kill(run.Pid, Signals.SIGCONT);
            ParentSeesContinue(run, "after SIGCONT to its deputy");
            run.WaitForLines(before + 5);
            EndsWhole(run);
        });
    }

    [Fact]
    public void A_process_stopped_at_home_and_moved_on_from_node_2_to_node_3_stays_stopped_and_resumes_on_SIGCONT_with_its_output_whole()
    {
        Lab.ExplainingFailure(() =>
        {
            var lab = Lab;
            using var run = lab.Managed(1, Memticker, "16", TakenOverCopies.UntilEnded, "50");
            run.WaitForLines(3);
            Signals.Kill(run.Pid, Signals.SIGSTOP);
            ParentSeesStop(run, "sent at home");
            StaysStopped(run.Pid, run, "at home");

            lab.Migrate(1, run.Pid, "2");
            var second = CopyOn(lab, run.Pid, 2);
            using var secondFd = Linux.PidFd.Open(second);
            StaysStopped(second, run, "on node 2");
            Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) while its copy is stopped on node 2");

            lab.Migrate(1, run.Pid, "3");
            var third = CopyOn(lab, run.Pid, 3);
            Poll.Until(() => !secondFd.Exists, Patience, $"the copy {second} to end on node 2 after the move on");
            StaysStopped(third, run, "on node 3 after its move on while stopped");
            Assert.True(DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {State(run.Pid)}) while its copy is stopped on node 3");

            var before = run.Lines().Count;
            Signals.Kill(run.Pid, Signals.SIGCONT);
            ParentSeesContinue(run, "after SIGCONT to its deputy, its copy on node 3");
            run.WaitForLines(before + 5);
            EndsWhole(run);
            Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        });
    }
}
