using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// The omd of the node a copy runs on killed without a drain (issue #17 part 1, the guest side): the copy's pipes live
/// on in its keeper, the new omd there adopts the copy, and home, seeing its link close while that node is up, asks
/// it to resume the copy on a new link. A lab of its own for each, since it kills omd.
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
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "500", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = Copy(lab, run.Pid);
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

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "500"), run.Lines());
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid} lost", home, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} restarted here", home, StringComparison.Ordinal);
        // Its exit went home through the new omd, which reaped it (its tracer) for init to take it away.
        Poll.Until(() => !Signals.Exists(copy), TimeSpan.FromSeconds(10), "the copy to be reaped");
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
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "800", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        run.WaitForLines(run.Lines().Count + 3);
        var copy = TakenOverByANewOmd(lab, run);

        var restart = Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "1"]).Succeeded();
        Assert.Contains("killed (SIGKILL)", restart.Stdout, StringComparison.Ordinal);
        lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) taken over by node 1's new omd");
        WaitForDaemonLogCount(lab, 1, $"process {run.Pid} taken over", 2);
        Assert.Equal(copy, Copy(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "800"), run.Lines());
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid} lost", home, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} restarted here", home, StringComparison.Ordinal);
        Poll.Until(() => !Signals.Exists(copy), TimeSpan.FromSeconds(10), "the copy to be reaped");
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    /// <summary>
    /// Taken over, the copy is a guest like any other on its node: listed there, and sent home by `mosctl expel` or by
    /// the drain of an orderly stop of that node's omd (`om lab restart 2`: SIGTERM), not left to its keeper.
    /// </summary>
    [Theory]
    [InlineData("expel")]
    [InlineData("restart")]
    public void A_taken_over_copy_is_listed_on_its_node_and_sent_home_by_mosctl_expel_or_the_drain_of_its_omd_with_the_output_of_an_uninterrupted_run(string how)
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "500", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = TakenOverByANewOmd(lab, run);
        var listed = lab.Processes(2).Processes.Single(p => p.Pid == copy);
        Assert.Equal(("guest", 1, run.Pid), (listed.State, listed.Home, listed.RemotePid));

        if (how == "expel")
        {
            Assert.Equal("sent 1 guest home; switches: block\n", lab.Exec(2, Om.Path, "mosctl", "expel").Succeeded().Stdout);
        }
        else
        {
            Om.Run(["lab", "restart", "--name", lab.Name, "2"]).Succeeded();
            lab.WaitForDaemonLog(2, $"stopping: guest {copy} (process {run.Pid} of node 1) went home");
        }
        var row = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
        Assert.Equal(("home", 1), (row.State, row.Where));
        Poll.Until(() => !Signals.Exists(copy), TimeSpan.FromSeconds(10), "the copy left on node 2 to be gone");
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "500"), run.Lines());
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid} lost", home, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} restarted here", home, StringComparison.Ordinal);
        var away = File.ReadAllText(lab.Layout.NodeDaemonLog(2));
        Assert.DoesNotContain("left stopped to its keeper", away, StringComparison.Ordinal);
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    [Fact]
    public void A_copy_whose_omd_stays_down_past_the_takeover_window_is_killed_there_and_restarted_at_home_from_its_checkpoint()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "1200", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        CheckpointRestartLabTests.WaitForCheckpoints(lab, run.Pid);
        var copy = Copy(lab, run.Pid);

        var omd = lab.ReadStatus().Nodes.Single(n => n.Id == 2).DaemonPid!.Value;
        Signals.Kill(omd, Signals.SIGKILL);
        lab.WaitForDaemonLog(1, $"process {run.Pid}: the link with node 2 closed");
        // Within the window the copy waits stopped: it writes nothing that a restart would write again.
        Poll.Until(() => !Signals.Exists(copy) || State(copy) is 'T' or 't', TimeSpan.FromSeconds(5), "the copy to be stopped by its keeper");
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", TimeSpan.FromSeconds(75));
        Assert.True(!Signals.Exists(copy) || State(copy) is 'T' or 't' or 'Z', "the copy ran on node 2 when home restarted the process");
        Poll.Until(() => !Signals.Exists(copy), TimeSpan.FromSeconds(15), "the keeper to kill the copy");
        Om.Run(["lab", "restart", "--name", lab.Name, "2"]).Succeeded();

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "1200"), run.Lines());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    /// <summary>Its trace for its exit status is let go for the trip and taken again by the copy it leaves, or by
    /// nothing when it comes home: a taken-over copy travels like any other.</summary>
    [Theory]
    [InlineData("home")]
    [InlineData("3")]
    public void A_taken_over_copy_moves_home_or_on_with_om_migrate_and_its_piped_output_is_that_of_an_uninterrupted_run(string target)
    {
        using var lab = TestLab.WithDaemons(target == "home" ? 2 : 3, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "500", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = TakenOverByANewOmd(lab, run);

        lab.Migrate(1, run.Pid, target);
        var row = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
        Assert.Equal(target == "home" ? ("home", 1) : ("remote", 3), (row.State, row.Where));
        Poll.Until(() => !Signals.Exists(copy), TimeSpan.FromSeconds(10), "the copy left on node 2 to be gone");
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "500"), run.Lines());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    [Fact]
    public void A_taken_over_copy_is_checkpointed_periodically_and_restarted_from_such_a_checkpoint_when_its_node_crashes()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "1000");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "600", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        TakenOverByANewOmd(lab, run);
        var stored = Stored(lab, run.Pid);

        // Two more after the takeover: the first whole, the next merged into it.
        Poll.Until(() => Stored(lab, run.Pid) >= stored + 2, TimeSpan.FromSeconds(30), "home to store two checkpoints of the taken-over copy");
        Om.Run(["lab", "kill", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", TimeSpan.FromSeconds(45));

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", "600"), run.Lines());
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

    /// <summary>Node 2's omd SIGKILLed and started again: the copy adopted there and resumed by home; returns the copy.</summary>
    private static int TakenOverByANewOmd(TestLab lab, ManagedRun run)
    {
        var copy = Copy(lab, run.Pid);
        Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) resumed by its home");
        Assert.Equal(copy, Copy(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);
        return copy;
    }

    /// <summary>How many checkpoints of <paramref name="pid"/> home has stored so far.</summary>
    private static int Stored(TestLab lab, int pid) =>
        System.Text.RegularExpressions.Regex.Count(File.ReadAllText(lab.Layout.NodeDaemonLog(1)), $@"process {pid}: checkpoint \d+ stored");

    private static void WaitForDaemonLogCount(TestLab lab, int node, string text, int count) =>
        Poll.Until(() => File.ReadAllText(lab.Layout.NodeDaemonLog(node)).Split(text).Length - 1 >= count, TimeSpan.FromSeconds(30),
            $"node {node}'s omd to log '{text}' {count} times");

    private static int Copy(TestLab lab, int pid)
    {
        var row = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        Assert.Equal(("remote", 2), (row.State, row.Where));
        return row.RemotePid;
    }

    private static char State(int pid)
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcStat.Parse(File.ReadAllText($"/proc/{pid}/stat")).State;
        }
        catch (IOException)
        {
            return 'X';
        }
    }
}
