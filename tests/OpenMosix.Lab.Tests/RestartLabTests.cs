using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// omd restarts without losing anything (issue #17 part 1): `om lab restart` stops a node's omd with SIGTERM, which
/// first brings its processes home and sends its guests home, and starts it again; the new omd manages the processes
/// the old one left at home. A lab of its own, since it restarts its daemons.
/// </summary>
public sealed class RestartLabTests
{
    [Fact]
    public void A_moved_process_survives_a_restart_of_home_then_of_its_copy_s_node_and_its_piped_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        // Both tick until the test ends them (SIGUSR1 to their PID at home), rather than for a running time that must
        // outlast the restarts on a loaded machine and is waited out on a quick one.
        using var stays = lab.Managed(1, TestPrograms.Locate("sleeper"), "usr1", "50");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        stays.WaitForLines(2);
        lab.Migrate(1, run.Pid, "2");
        Assert.Equal(("remote", 2), Where(lab, run.Pid));

        // Home's omd: it brings the process home before it stops, and the next one manages it.
        Restart(lab, 1);
        lab.WaitForDaemonLog(1, $"stopping: process {run.Pid} is home from node 2");
        lab.WaitForDaemonLog(1, "took back 2 managed processes");
        Assert.Equal(("home", 1), Where(lab, run.Pid));
        Assert.Equal(("home", 1), Where(lab, stays.Pid));
        run.WaitForLines(run.Lines().Count + 3);

        // The copy's omd: it sends its guest home before it stops. (The new omd of node 1 knows node 2 from its first
        // gossip round on.)
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive", TimeSpan.FromSeconds(20), "node 1's new omd to see node 2");
        lab.Migrate(1, run.Pid, "2");
        Assert.Equal(("remote", 2), Where(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);
        Restart(lab, 2);
        lab.WaitForDaemonLog(2, $"of node 1) went home");
        Assert.Equal(("home", 1), Where(lab, run.Pid));
        // Managed by home's omd as before: it moves again.
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive", TimeSpan.FromSeconds(20), "node 1 to see node 2's new omd");
        lab.Migrate(1, run.Pid, "2");
        Assert.Equal(("remote", 2), Where(lab, run.Pid));

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(stays));
        Assert.Equal(SleeperUninterrupted(stays.Lines().Count - 1), stays.Lines());
        foreach (var node in new[] { 1, 2 })
        {
            var log = File.ReadAllText(lab.Layout.NodeDaemonLog(node));
            Assert.DoesNotContain("lost at stop", log, StringComparison.Ordinal);
            Assert.DoesNotContain(" lost: ", log, StringComparison.Ordinal);
            Assert.Contains("0 lost", log, StringComparison.Ordinal);
        }
    }

    /// <summary>What sleeper prints when nothing happens to it in <paramref name="ticks"/> ticks.</summary>
    private static List<string> SleeperUninterrupted(int ticks) =>
        [.. CommandRun.Run(TestPrograms.Locate("sleeper"), [$"{ticks}", "0"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    private static (string State, int Where) Where(TestLab lab, int pid)
    {
        var row = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        return (row.State, row.Where);
    }

    /// <summary>`om lab restart`, which must have stopped omd by SIGTERM, not had to kill it.</summary>
    private static void Restart(TestLab lab, int node)
    {
        var restart = Om.Run(["lab", "restart", "--name", lab.Name, $"{node}"]).Succeeded();
        Assert.Contains("stopped; omd ", restart.Stdout, StringComparison.Ordinal);
    }
}
