using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// omd killed without a drain (issue #17 part 1): `om lab restart --kill` SIGKILLs a node's omd alone and starts it
/// again. The new omd of home takes over its processes running away (their deputies traced again, their copies' node
/// relaying to it on a new link), and the process ends as if nothing happened. A lab of its own, since it kills omd.
/// </summary>
public sealed class TakeoverLabTests
{
    [Fact]
    public void A_moved_process_survives_a_sigkill_of_home_s_omd_and_its_piped_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        Assert.Equal(("remote", 2), Where(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);

        var restart = Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "1"]).Succeeded();
        Assert.Contains("killed (SIGKILL)", restart.Stdout, StringComparison.Ordinal);
        lab.WaitForDaemonLog(2, "is up but its omd is gone");
        lab.WaitForDaemonLog(1, $"process {run.Pid} taken over");
        lab.WaitForDaemonLog(2, "taken over by node 1's new omd");
        Assert.Equal(("remote", 2), Where(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain(" lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    private static (string State, int Where) Where(TestLab lab, int pid)
    {
        var row = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        return (row.State, row.Where);
    }
}
