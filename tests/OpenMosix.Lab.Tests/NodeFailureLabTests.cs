using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Migration when a node dies: each test gets a lab of its own, since it kills a node.</summary>
public sealed class NodeFailureLabTests
{
    /// <summary>With pre-copy the node dies while the process still runs (round 1); without, while it is frozen.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_target_node_that_dies_during_the_transfer_leaves_the_process_running_at_home(bool precopy)
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = Start(lab, TestPrograms.Locate("memticker"), "1500", "100", "50");
        run.WaitForLines(2);
        var targetDaemon = lab.Status.Nodes.Single(n => n.Id == 2).DaemonPid!.Value;
        string[] command = precopy ? [Om.Path, "migrate", $"{run.Pid}", "2"] : [Om.Path, "migrate", $"{run.Pid}", "2", "--no-precopy"];
        var migrate = Task.Run(() => lab.Exec(1, command), TestContext.Current.CancellationToken);
        // The restore on node 2 has begun once its omd has a child (the stub it fills): crash the node then.
        Poll.Until(() => ChildrenOf(targetDaemon).Any() || migrate.IsCompleted, TimeSpan.FromSeconds(30), "node 2 to start restoring");
        Assert.False(migrate.IsCompleted, "the transfer finished before the node could be crashed");
        CrashNode(lab, 2);
        var result = await migrate;
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("om: node 2 failed during the transfer", result.Stderr, StringComparison.Ordinal);
        Assert.EndsWith($"process {run.Pid} runs on here\n", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(MigrationLabTests.ReferenceSum(1500), run.Lines()[^1]);
        Assert.Equal(100, run.Lines().Count(l => l.StartsWith("tick ", StringComparison.Ordinal)));
    }

    [Fact]
    public void When_the_node_running_a_process_dies_home_reports_it_lost_and_the_deputy_dies_as_if_killed()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = Start(lab, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);
        lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2").Succeeded();
        CrashNode(lab, 2);
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), run.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        lab.WaitForDaemonLog(1, $"process {run.Pid} lost: node 2 is gone");
    }

    /// <summary>Without periodic checkpoints there is nothing to restart the child from: it is lost.</summary>
    [Fact]
    public void When_the_node_running_a_child_dies_its_parent_at_home_sees_it_killed_by_sigkill_and_nothing_of_it_is_left()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        using var shell = Start(lab, "bash", "-c", $"{TestPrograms.Locate("sleeper")} 400 50 > /dev/null & wait $!; echo \"child $?\"");
        var child = MovedChild(lab, shell.Pid);
        CrashNode(lab, 2);
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(["child 137"], shell.Lines());
        lab.WaitForDaemonLog(1, $"process {child} lost: node 2 is gone");
        NothingLeftAtHome(lab, shell.Pid, child);
    }

    /// <summary>With them, home restarts the child in its deputy from the last one: it stays the shell's child and its
    /// end is its own.</summary>
    [Fact]
    public void When_the_node_running_a_checkpointed_child_dies_it_is_restarted_at_home_and_its_parent_gets_its_real_status()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var shell = Start(lab, "bash", "-c", $"{TestPrograms.Locate("memticker")} 16 600 50 > /dev/null & wait $!; echo \"child $?\"");
        var child = MovedChild(lab, shell.Pid);
        CheckpointRestartLabTests.WaitForCheckpoints(lab, child);
        CrashNode(lab, 2);
        lab.WaitForDaemonLog(1, $"process {child} restarted here from checkpoint", CheckpointRestartLabTests.RestartBound + TimeSpan.FromSeconds(10));
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(["child 0"], shell.Lines());
        NothingLeftAtHome(lab, shell.Pid, child);
    }

    /// <summary>The shell's one job, once managed, moved to node 2.</summary>
    private static int MovedChild(TestLab lab, int shell)
    {
        Poll.Until(() => lab.Processes(1).Processes.Any(p => p.ParentPid == shell), TimeSpan.FromSeconds(20), "the child to be managed");
        var child = lab.Processes(1).Processes.Single(p => p.ParentPid == shell).Pid;
        lab.Exec(1, Om.Path, "migrate", $"{child}", "2").Succeeded();
        return child;
    }

    /// <summary>No deputy, entry or zombie of the child at home once its parent has reaped it.</summary>
    private static void NothingLeftAtHome(TestLab lab, int shell, int child)
    {
        Poll.Until(() => !lab.Processes(1).Processes.Any(p => p.Pid == child || p.Pid == shell), TimeSpan.FromSeconds(10),
            "home to forget the shell and its child");
        Assert.False(Directory.Exists($"/proc/{child}"), $"process {child} is still there (a deputy or a zombie)");
        Assert.Empty(ChildrenOf(shell));
    }

    private static ManagedRun Start(TestLab lab, string program, params string[] arguments) => lab.Managed(1, program, arguments);

    /// <summary>A node crash as its peers see it: every process of the node killed at once.</summary>
    internal static void CrashNode(TestLab lab, int node)
    {
        foreach (var line in File.ReadAllLines(Path.Combine(lab.Layout.CpuCgroup(node), "cgroup.procs")))
            if (int.TryParse(line, out var pid)) Signals.Kill(pid, Signals.SIGKILL);
    }

    internal static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent) yield return pid;
        }
    }
}
