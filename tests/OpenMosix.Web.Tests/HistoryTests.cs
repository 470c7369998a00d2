using OpenMosix.Admin;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Web.Dashboard;

namespace OpenMosix.Web.Tests;

/// <summary>The dashboard's two histories keep only what they are sized for.</summary>
public sealed class HistoryTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static NodeRow Node(int id, NodeLiveness state, double load) =>
        new(id, $"10.0.0.{id}", state, load, 1000, 2, 2000, 8L << 30, 6L << 30, 0.5, [], state == NodeLiveness.Unknown ? -1 : 100, id == 1);

    [Fact]
    public void A_node_s_history_keeps_its_newest_readings_oldest_first()
    {
        var history = new NodeHistory(TimeSpan.FromSeconds(2), capacity: 3);

        for (var i = 0; i < 5; i++)
            history.Record(new ClusterView(1, "10.0.0.1", "map", [Node(1, NodeLiveness.Alive, i)]), Start.AddSeconds(2 * i));

        var node = Assert.Single(history.View().Nodes);
        Assert.Equal([2.0, 3.0, 4.0], node.Load);
        Assert.Equal([Start.AddSeconds(4).ToUnixTimeMilliseconds(), Start.AddSeconds(6).ToUnixTimeMilliseconds(), Start.AddSeconds(8).ToUnixTimeMilliseconds()], node.AtMs);
        Assert.Equal([2L << 30, 2L << 30, 2L << 30], node.UsedMemory);
        Assert.Equal(5, history.View().Version);
    }

    [Fact]
    public void Dead_and_unheard_nodes_get_no_readings_and_a_node_gone_from_the_map_takes_its_history_along()
    {
        var history = new NodeHistory(TimeSpan.FromSeconds(2), capacity: 10);
        history.Record(new ClusterView(1, "10.0.0.1", "map",
            [Node(1, NodeLiveness.Alive, 1), Node(2, NodeLiveness.Dead, 1), Node(3, NodeLiveness.Unknown, 0), Node(4, NodeLiveness.Alive, 1)]), Start);

        history.Record(new ClusterView(1, "10.0.0.1", "map", [Node(1, NodeLiveness.Alive, 1)]), Start.AddSeconds(2));

        Assert.Equal([1], history.View().Nodes.Select(n => n.Id));
    }

    [Fact]
    public void The_migration_history_keeps_the_newest_moves_first()
    {
        var history = new MigrationHistory(capacity: 2);

        history.Record(new MoveEnded(Start, 10, "a", 1, 2, new MigrationResult(10, 1, 2, 4096, 7, 99), null));
        history.Record(new MoveEnded(Start, 11, "b", 1, 3, null, "node 3 refused"));
        history.Record(new MoveEnded(Start, 12, "c", 2, 1, new MigrationResult(12, 2, 1, 4096, 9, 12), null));

        Assert.Equal([(12, "moved", 9L), (11, "failed", 0L)], history.Newest().Select(m => (m.Pid, m.Result, m.FrozenMs)));
        Assert.Equal("node 3 refused", history.Newest()[1].Error);
    }
}
