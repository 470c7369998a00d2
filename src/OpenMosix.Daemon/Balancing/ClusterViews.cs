using OpenMosix.Balancing.Model;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The gossiped load vectors as the balancer reads them. A node's capacity (its CPUs' worth of quota times its
/// speed) becomes whole CPUs of a proportional speed (a half-CPU quota behaves like a CPU at half speed), and its
/// load (decayed run queue per reference CPU) becomes the CPU demand on it.
/// </summary>
public static class ClusterViews
{
    public static NodeControls Controls(OpenMosix.Cluster.Gossip.NodeFlags flags) =>
        (flags.HasFlag(OpenMosix.Cluster.Gossip.NodeFlags.Blocked) ? NodeControls.Blocked : 0)
        | (flags.HasFlag(OpenMosix.Cluster.Gossip.NodeFlags.Quiet) ? NodeControls.Quiet : 0)
        | (flags.HasFlag(OpenMosix.Cluster.Gossip.NodeFlags.Stay) ? NodeControls.Stay : 0)
        | (flags.HasFlag(OpenMosix.Cluster.Gossip.NodeFlags.LocalStay) ? NodeControls.LocalStay : 0);

    public static NodeView ToView(NodeRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var cpus = Math.Max(1, row.Cpus);
        var capacity = Math.Max(1, row.Capacity);
        var controls = NodeControls.None;
        if (row.Flags.Contains("blocked")) controls |= NodeControls.Blocked;
        if (row.Flags.Contains("quiet")) controls |= NodeControls.Quiet;
        if (row.Flags.Contains("stay")) controls |= NodeControls.Stay;
        if (row.Flags.Contains("local-stay")) controls |= NodeControls.LocalStay;
        // Versions gossiped or learnt by a link; none known leaves 0-0, which the balancer does not hold against a node.
        var versions = row.Protocol.Length == 0 ? null : OpenMosix.Cluster.Transport.ProtocolRange.Parse(row.Protocol);
        return new NodeView((ushort)row.Id, (double)capacity / cpus, cpus, row.Load * capacity / LoadMath.ReferenceSpeed,
            row.FreeMemory, (ulong)Math.Max(0, row.TotalMemory), controls, row.State == NodeLiveness.Alive)
        {
            ProtocolMin = versions?.Min ?? 0,
            ProtocolMax = versions?.Max ?? 0,
        };
    }
}
