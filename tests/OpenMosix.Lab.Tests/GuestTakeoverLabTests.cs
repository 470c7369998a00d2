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
    /// <summary>`--kill`: omd SIGKILLed; `--stop`: an orderly restart, which leaves an adopted copy to its keeper
    /// (it cannot go home) for the next omd to adopt again.</summary>
    [Theory]
    [InlineData("--kill")]
    [InlineData("--kill --kill")]
    [InlineData("--kill --stop")]
    public void A_moved_process_survives_restarts_of_the_omd_its_copy_runs_under_and_its_piped_output_is_that_of_an_uninterrupted_run(string restarts)
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "500", "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = Copy(lab, run.Pid);
        run.WaitForLines(run.Lines().Count + 3);

        var kill = 0;
        foreach (var how in restarts.Split(' '))
        {
            kill++;
            // The adopted copy has a keeper of the new omd's: a second restart is survived as the first.
            var restart = Om.Run(how == "--kill" ? ["lab", "restart", "--kill", "--name", lab.Name, "2"] : ["lab", "restart", "--name", lab.Name, "2"]).Succeeded();
            Assert.Equal(how == "--kill", restart.Stdout.Contains("killed (SIGKILL)", StringComparison.Ordinal));
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
