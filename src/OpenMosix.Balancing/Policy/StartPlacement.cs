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
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.PlaceAtStart || nodes.FirstOrDefault(n => n.Id == self) is not { Alive: true } here) return null;
        if ((here.Controls & (NodeControls.Stay | NodeControls.LocalStay)) != 0) return null;
        var rateHere = LoadMath.Rate(here, here.Load + 1);
        NodeView? best = null;
        var bestRate = rateHere * (1 + options.Margin);
        foreach (var node in nodes.Where(n => n.Id != self && n.Alive
                                              && (n.Controls & (NodeControls.Blocked | NodeControls.Quiet | NodeControls.Expel)) == 0
                                              && n.FreeMemory >= n.TotalMemory * options.KeepFreeFraction)
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
