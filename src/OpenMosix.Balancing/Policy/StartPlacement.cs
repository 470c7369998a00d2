using OpenMosix.Balancing.Model;

namespace OpenMosix.Balancing.Policy;

/// <summary>
/// Where a process just started should run, before anything is known of it: it is taken for CPU-bound (most
/// processes worth managing are; an I/O-bound one stays home), so it starts where it would run fastest with one more
/// process there, and only if that is faster than home by the margin. A node with a free CPU keeps its new processes;
/// a crowded one sends them straight to the nodes with room, instead of letting them wait there to be measured and
/// moved one round at a time. Pure.
/// </summary>
public static class StartPlacement
{
    public static ushort? Choose(ushort self, IReadOnlyList<NodeView> nodes, BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.PlaceAtStart ? Fastest(self, nodes, options, 0) : null;
    }

    /// <summary>
    /// Where a process of <paramref name="memory"/> bytes, taken for CPU-bound, runs fastest: another node only if it
    /// is faster than home by the margin and keeps its free share of memory with the process there, or if home could
    /// not keep it with the process. Null: home. A process restarted from its checkpoint after its node died is placed
    /// so (the caller leaves the dead node out).
    /// </summary>
    public static ushort? Fastest(ushort self, IReadOnlyList<NodeView> nodes, BalancerOptions options, long memory)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(options);
        if (nodes.FirstOrDefault(n => n.Id == self) is not { Alive: true } here) return null;
        if ((here.Controls & (NodeControls.Stay | NodeControls.LocalStay)) != 0) return null;
        bool Fits(NodeView n) => n.FreeMemory - memory >= n.TotalMemory * options.KeepFreeFraction;
        var rateHere = LoadMath.Rate(here, here.Load + 1);
        NodeView? best = null;
        var bestRate = Fits(here) ? rateHere * (1 + options.Margin) : 0;
        foreach (var node in nodes.Where(n => n.Id != self && n.Alive && n.SpeaksWith(here)
                                              && (n.Controls & (NodeControls.Blocked | NodeControls.Quiet | NodeControls.Expel)) == 0
                                              && Fits(n))
                     .OrderBy(n => LoadMath.Normalized(n, n.Load)).ThenBy(n => n.Id))
        {
            var rate = LoadMath.Rate(node, node.Load + 1);
            if (rate > bestRate + 1e-12)
            {
                best = node;
                bestRate = rate;
            }
        }
        return best?.Id;
    }
}
