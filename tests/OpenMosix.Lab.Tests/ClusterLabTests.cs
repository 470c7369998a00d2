using System.Diagnostics;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Labs with real omd (and omdiscd) in every node: the cluster layer of issue #4 end to end. The lab's omd.toml sets
/// suspect after 3 s, dead after 9 s, one gossip round a second; omdiscd forgets a node silent for 4 s.
/// </summary>
public sealed class ClusterLabTests
{
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(9);
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    [Fact]
    public void In_a_map_lab_every_node_sees_all_and_a_killed_omd_is_seen_dead_within_the_bound_then_alive_after_restart()
    {
        // `up` itself waits until every node sees every node alive, and fails past --timeout.
        using var lab = TestLab.WithDaemons(4, "--cpus", "0.5,0.5,0.5,0.5", "--timeout", "10");
        foreach (var node in new[] { 1, 2, 3, 4 })
        {
            var view = NodeProbe.View(lab, node);
            Assert.Equal((node, "map"), (view.Self, view.Mode));
            Assert.Equal([1, 2, 3, 4], view.Nodes.Where(n => n.State == NodeLiveness.Alive).Select(n => n.Id));
            // The quota of 0.5 CPU shows in what the node announces.
            Assert.All(view.Nodes, n => Assert.Equal(1, n.Cpus));
            Assert.All(view.Nodes, n => Assert.InRange(n.Capacity, n.Speed * 0.45, n.Speed * 0.55));
        }

        var victim = lab.Status.Nodes.Single(n => n.Id == 3).DaemonPid!.Value;
        var clock = Stopwatch.StartNew();
        Signals.Kill(victim, Signals.SIGKILL);
        var bound = DeadAfter + Round * 2 + TimeSpan.FromSeconds(1);
        foreach (var observer in new[] { 1, 2, 4 })
            Poll.Until(() => NodeProbe.StateSeen(lab, observer, 3) == "dead", bound + TimeSpan.FromSeconds(10), $"node {observer} to see node 3 dead");
        Assert.True(clock.Elapsed <= bound,
            $"all saw node 3 dead after {clock.Elapsed.TotalSeconds:F1} s; the configured bound is {bound.TotalSeconds:F1} s");

        using var restarted = StartInNode(lab, 3, "daemon", "--config", lab.Layout.NodeConfigFile(3));
        foreach (var observer in new[] { 1, 2, 4 })
            Poll.Until(() => NodeProbe.StateSeen(lab, observer, 3) == "alive", Settle, $"node {observer} to see node 3 alive again");
        Poll.Until(() => NodeProbe.View(lab, 3).Nodes.Count(n => n.State == NodeLiveness.Alive) == 4, Settle, "the restarted node 3 to see all alive");
    }

    [Fact]
    public void In_a_discovery_lab_nodes_find_each_other_and_one_that_leaves_disappears_and_comes_back()
    {
        using var lab = TestLab.WithDaemons(4, "--discovery", "--timeout", "15");
        foreach (var node in new[] { 1, 2, 3, 4 })
            Assert.Equal([1, 2, 3, 4], NodeProbe.View(lab, node).Nodes.Where(n => n.State == NodeLiveness.Alive).Select(n => n.Id));
        Assert.Equal("omdiscd", Map(lab, 1).Source);

        var leaving = lab.Status.Nodes.Single(n => n.Id == 4);
        Signals.Kill(leaving.DiscoverPid!.Value, Signals.SIGKILL);
        Signals.Kill(leaving.DaemonPid!.Value, Signals.SIGKILL);
        foreach (var observer in new[] { 1, 2, 3 })
            Poll.Until(() => Map(lab, observer).Nodes.All(n => n.Id != 4), Settle, $"node 4 to leave node {observer}'s map");

        using var daemon = StartInNode(lab, 4, "daemon", "--config", lab.Layout.NodeConfigFile(4));
        using var discovery = StartInNode(lab, 4, "discover", "-n", "-i", "eth0", "--config", lab.Layout.NodeConfigFile(4));
        foreach (var observer in new[] { 1, 2, 3 })
            Poll.Until(() => NodeProbe.StateSeen(lab, observer, 4) == "alive", Settle, $"node {observer} to see node 4 alive again");
        // The returning node builds its own map from the announcements it hears, a moment after the others saw it.
        Poll.Until(() => Map(lab, 4).Nodes.Select(n => n.Id).SequenceEqual([1, 2, 3, 4]), Settle, "node 4 to map all four nodes again");
    }

    private static MapView Map(TestLab lab, int node) =>
        JsonSerializer.Deserialize(lab.Exec(node, Om.Path, "showmap", "--json").Succeeded().Stdout,
            AdminJsonContext.Default.MapView)!;

    /// <summary>Starts `om ARGS` inside a node as a long-running child of the test (killed on dispose, and by `lab down`).</summary>
    private static ChildProcess StartInNode(TestLab lab, int node, params string[] arguments) =>
        ChildProcess.StartToFile(Om.Path, ["lab", "exec", "--name", lab.Name, $"{node}", "--", Om.Path, .. arguments],
            Path.Combine(lab.Layout.NodeDirectory(node), $"{arguments[0]}-restarted.log"));
}
