namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Choosing a node until the balancer exists: the alive node (other than this one) with the lowest load per
/// capacity, optionally among a given list, that speaks a protocol version with this one. Pure.
/// </summary>
public static class Placement
{
    public static ushort? LeastLoaded(ClusterView view, IReadOnlyCollection<int>? among = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        // A node that gossips versions none of which this node speaks could not take the process: never chosen.
        var here = view.Nodes.FirstOrDefault(n => n.IsSelf) is { } self ? Balancing.ClusterViews.ToView(self) : default(OpenMosix.Balancing.Model.NodeView?);
        var best = view.Nodes
            .Where(n => n.State == NodeLiveness.Alive && !n.IsSelf && n.Capacity > 0 && (among is null || among.Count == 0 || among.Contains(n.Id))
                        && (here is not { } me || Balancing.ClusterViews.ToView(n).SpeaksWith(me)))
            .OrderBy(n => n.Load)
            .ThenByDescending(n => n.Capacity)
            .ThenBy(n => n.Id)
            .FirstOrDefault();
        return best is null ? null : (ushort)best.Id;
    }

    public static bool IsAlive(ClusterView view, int node)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.Nodes.Any(n => n.Id == node && n.State == NodeLiveness.Alive);
    }
}
