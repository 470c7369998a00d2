using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.Support.TakenOverCopies;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// The omd of the node a copy runs on killed without a drain (issue #17 part 1, the guest side): the copy's pipes live
/// on in its keeper, the new omd there adopts the copy, and home, seeing its link close while that node is up, asks
/// it to resume the copy on a new link. A lab of its own for each, since it kills omd. What a taken-over copy does
/// next is in TakenOverCopySentHomeLabTests, TakenOverCopyMovesAndCheckpointsLabTests and TakeoverWindowLabTests.
/// </summary>
public sealed class GuestTakeoverLabTests
{
    /// <summary>omd SIGKILLed once, or twice in a row (the adopted copy has a keeper of the new omd's).</summary>
    [Theory]
    [InlineData("--kill")]
    [InlineData("--kill --kill")]
    public void A_moved_process_survives_restarts_of_the_omd_its_copy_runs_under_and_its_piped_output_is_that_of_an_uninterrupted_run(string restarts)
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2(lab, UntilEnded);
        var copy = Copy(lab, run.Pid);
        using var copyFd = Linux.PidFd.Open(copy);
        run.WaitForLines(run.Lines().Count + 3);

        var kill = 0;
        foreach (var _ in restarts.Split(' '))
        {
            kill++;
            // The adopted copy has a keeper of the new omd's: a second kill is survived as the first.
            var restart = Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "2"]).Succeeded();
            Assert.Contains("killed (SIGKILL)", restart.Stdout, StringComparison.Ordinal);
            WaitForDaemonLogCount(lab, 2, $"guest {copy} (process {run.Pid} of node 1) adopted", kill);
            WaitForDaemonLogCount(lab, 1, $"process {run.Pid} taken over", kill);
            WaitForDaemonLogCount(lab, 2, $"guest {copy} (process {run.Pid} of node 1) resumed by its home", kill);
            Assert.Equal(copy, Copy(lab, run.Pid));
            run.WaitForLines(run.Lines().Count + 3);
        }

        EndsAsIfUninterrupted(lab, run, UntilEnded);
        // Its exit went home through the new omd, which reaped it (its tracer) for init to take it away.
        Poll.Until(() => !copyFd.Exists, TimeSpan.FromSeconds(10), "the copy to be reaped");
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    /// <summary>
    /// The copy adopted by node 2's new omd, then home's omd SIGKILLed in turn (node 1 up): the copy is stopped and
    /// waits for home's next omd as any copy does, which takes the process over from away.json and resumes it. Until
    /// 2026-12-07 the adopted copy was killed then, and home's next omd restarted the process from its checkpoint.
    /// </summary>
    [Fact]
    public void An_adopted_copy_survives_a_kill_of_its_homes_omd_in_turn_and_its_piped_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        run.WaitForLines(run.Lines().Count + 3);
        var copy = TakenOverByANewOmd(lab, run);
        using var copyFd = Linux.PidFd.Open(copy);

        var restart = Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "1"]).Succeeded();
        Assert.Contains("killed (SIGKILL)", restart.Stdout, StringComparison.Ordinal);
        lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) taken over by node 1's new omd");
        WaitForDaemonLogCount(lab, 1, $"process {run.Pid} taken over", 2);
        Assert.Equal(copy, Copy(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid} lost", home, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} restarted here", home, StringComparison.Ordinal);
        Poll.Until(() => !copyFd.Exists, TimeSpan.FromSeconds(10), "the copy to be reaped");
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    /// <summary>
    /// A copy adopted by node 2's new omd (traced, not its child) is watched for stops as a copy it restored is: `kill
    /// -STOP` of it there stops its deputy at home and its parent sees the stop, `kill -CONT` there resumes both. The
    /// stop it was adopted in (its keeper's SIGSTOP while node 2 had no omd) is not reported: the deputy ran on through
    /// the takeover. Until 2026-12-07 an adopted copy's own stops were not reported home at all.
    /// </summary>
    [Fact]
    public void An_adopted_copy_stopped_and_continued_on_its_node_stops_and_continues_its_deputy_and_its_parent_sees_both()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2(lab, UntilEnded);
        var copy = TakenOverByANewOmd(lab, run);
        Assert.False(StoppedProcessLabTests.DeputyStopped(run.Pid), $"the deputy {run.Pid} was stopped by the takeover (state {TakenOverCopies.State(run.Pid)})");
        Assert.False(Waiting.WaitPid(run.Pid, Waiting.WNOHANG | Waiting.WUNTRACED).Stopped, "its parent was told of the takeover's stop");

        Signals.Kill(copy, Signals.SIGSTOP);
        StoppedProcessLabTests.ParentSeesStop(run, "sent to its adopted copy on node 2");
        Assert.True(StoppedProcessLabTests.DeputyStopped(run.Pid), $"the deputy {run.Pid} runs (state {TakenOverCopies.State(run.Pid)}) though its parent was told it stopped");
        Assert.Contains(TakenOverCopies.State(copy), "Tt");

        var before = run.Lines().Count;
        Signals.Kill(copy, Signals.SIGCONT);
        StoppedProcessLabTests.ParentSeesContinue(run, "after SIGCONT to its adopted copy on node 2");
        run.WaitForLines(before + 5);
        Poll.Until(() => !StoppedProcessLabTests.DeputyStopped(run.Pid), TimeSpan.FromSeconds(30), "the deputy to leave its stop");

        EndsAsIfUninterrupted(lab, run, UntilEnded);
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.Contains($"process {run.Pid}'s copy stopped by signal 19 on its node", home, StringComparison.Ordinal);
        Assert.Contains($"process {run.Pid}'s copy continued on its node", home, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_in_flight_when_the_copys_omd_is_killed_and_input_written_while_it_is_down_reach_the_copy_exactly_once()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        var input = new byte[(1 << 20) + (256 << 10)];
        new Random(17).NextBytes(input);
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        using var run = lab.Managed(1, [TestPrograms.Locate("slowreader"), "256", "2"], stdinRead);
        stdinRead.Dispose();
        using var down = new ManualResetEventSlim();
        // The first MiB at once: it waits in the copy's pipe and in its omd's queue while the reader takes its time;
        // the rest once that omd is dead.
        var feeder = new Thread(() =>
        {
            using var feed = new FileStream(stdinWrite, FileAccess.Write);
            feed.Write(input.AsSpan(0, 1 << 20));
            down.Wait();
            feed.Write(input.AsSpan(1 << 20));
        }) { IsBackground = true };
        feeder.Start();
        run.WaitForLines(2);
        lab.Migrate(1, run.Pid, "2");
        var copy = Copy(lab, run.Pid);
        run.WaitForLines(run.Lines().Count + 1);

        Signals.Kill(lab.ReadStatus().Nodes.Single(n => n.Id == 2).DaemonPid!.Value, Signals.SIGKILL);
        lab.WaitForDaemonLog(1, $"process {run.Pid}: the link with node 2 closed");
        down.Set();
        Om.Run(["lab", "restart", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) resumed by its home");

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.True(feeder.Join(TimeSpan.FromSeconds(5)));
        // The case this is about happened: the dead omd had taken input it never wrote into the copy's stdin.
        Assert.Contains("bytes of input its copy's node had taken and not written into its stdin sent again", File.ReadAllText(lab.Layout.NodeDaemonLog(1)),
            StringComparison.Ordinal);
        Assert.Equal($"slowreader done bytes={input.Length} hash={HomecomingLabTests.Fnv1a(input):x16}", run.Lines()[^1]);
        Assert.DoesNotContain($"process {run.Pid} restarted here", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }
}
