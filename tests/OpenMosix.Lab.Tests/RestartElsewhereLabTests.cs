using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A process restarted from its checkpoint after its node died goes on to the node where it runs best (issue #17,
/// part 2: "on another node, or at home"), as the balancer would place it: a 3-node lab with balancing on.
/// </summary>
public sealed class RestartElsewhereLabTests
{
    [Fact]
    public void A_process_whose_node_crashes_is_restarted_and_finishes_on_the_idle_third_node_when_home_is_busy_with_its_output_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        CheckpointRestartLabTests.WaitForCheckpoints(lab, run.Pid);
        // Home busy with work it does not manage: node 3, idle, is where the process runs best.
        using var busy = lab.InNode(1, ["sh", "-c", $"{TestPrograms.Locate("spinner")} 120 & {TestPrograms.Locate("spinner")} 120; wait"]);

        Om.Run(["lab", "kill", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", CheckpointRestartLabTests.RestartBound + TimeSpan.FromSeconds(10));
        lab.WaitForDaemonLog(1, $"process {run.Pid}, restarted here, goes on to node 3", TimeSpan.FromSeconds(10));
        Poll.Until(() => Where(lab, run.Pid) == ("remote", 3), TimeSpan.FromSeconds(20), $"process {run.Pid} to run on node 3");
        Assert.Contains(lab.Processes(3).Processes, p => p.State == "guest" && p.RemotePid == run.Pid);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    private static (string, int) Where(TestLab lab, int pid) =>
        lab.Processes(1).Processes.Single(p => p.Pid == pid) is var p ? (p.State, p.Where) : default;
}
