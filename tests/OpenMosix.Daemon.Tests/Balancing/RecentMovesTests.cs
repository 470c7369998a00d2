using OpenMosix.Balancing.Model;
using OpenMosix.Daemon.Balancing;

namespace OpenMosix.Daemon.Tests.Balancing;

public sealed class RecentMovesTests
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan HalfLife = TimeSpan.FromSeconds(10);
    private static readonly NodeView[] Nodes = [new(2, 10000, 1, 0, 900 * MiB, 1024 * MiB), new(3, 10000, 1, 0, 900 * MiB, 1024 * MiB)];

    [Fact]
    public void A_move_under_way_takes_its_memory_off_its_targets_free_memory_and_no_other()
    {
        var recent = new RecentMoves(HalfLife);
        recent.Add(2, 0.1, 300 * MiB);

        var seen = recent.Adjust(Nodes, TimeSpan.FromSeconds(1));

        Assert.Equal(600 * MiB, seen.Single(n => n.Id == 2).FreeMemory);
        Assert.Equal(900 * MiB, seen.Single(n => n.Id == 3).FreeMemory);
    }

    [Fact]
    public void Two_moves_to_one_node_both_count()
    {
        var recent = new RecentMoves(HalfLife);
        recent.Add(2, 0.1, 300 * MiB);
        recent.Add(2, 0.1, 400 * MiB);

        Assert.Equal(200 * MiB, recent.Adjust(Nodes, TimeSpan.Zero).Single(n => n.Id == 2).FreeMemory);
    }

    [Fact]
    public void A_landed_moves_memory_counts_until_the_target_can_show_it_and_then_no_more()
    {
        var recent = new RecentMoves(HalfLife);
        var move = recent.Add(2, 0.1, 300 * MiB);
        move.Landed(TimeSpan.FromSeconds(1));

        Assert.Equal(600 * MiB, recent.Adjust(Nodes, TimeSpan.FromSeconds(1) + RecentMoves.MemoryShows).Single(n => n.Id == 2).FreeMemory);
        Assert.Equal(900 * MiB, recent.Adjust(Nodes, TimeSpan.FromSeconds(2) + RecentMoves.MemoryShows).Single(n => n.Id == 2).FreeMemory);
    }

    [Fact]
    public void A_failed_move_promises_nothing()
    {
        var recent = new RecentMoves(HalfLife);
        recent.Add(2, 0.5, 300 * MiB).Failed();

        var node = recent.Adjust(Nodes, TimeSpan.Zero).Single(n => n.Id == 2);

        Assert.Equal((0.0, 900 * MiB), (node.Load, node.FreeMemory));
    }
}
