using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Migration when a node dies: each test gets a lab of its own, since it kills a node. What becomes of a child moved
/// to the node that dies is in ChildOnACrashedNodeLabTests.
/// </summary>
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
        // A crash, not its processes killed with its network up (CrashNode): that home would wait out the takeover window.
        CheckpointRestartLabTests.Fault(lab, "kill").Succeeded();
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), run.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        lab.WaitForDaemonLog(1, $"process {run.Pid} lost: node 2 is gone");
    }

    internal static ManagedRun Start(TestLab lab, string program, params string[] arguments) => lab.Managed(1, program, arguments);

    /// <summary>Every process of the node killed at once, its network up: its kernel closes their links (peers see them
    /// close, not go silent), so a copy's link looks to home like the copy's omd killed on a node that is up, and home
    /// waits the takeover window for a new omd there (docs/reliability.md). A crash as peers see it is `om lab kill`.</summary>
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
