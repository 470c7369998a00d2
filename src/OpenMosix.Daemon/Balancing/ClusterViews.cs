using OpenMosix.Admin;
using OpenMosix.Balancing.Model;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The gossiped load vectors as the balancer reads them. A node's capacity (its CPUs' worth of quota times its
/// speed) becomes whole CPUs of a proportional speed (a half-CPU quota behaves like a CPU at half speed), and its
/// load (decayed run queue per reference CPU) becomes the CPU demand on it.
/// </summary>
public static class ClusterViews
{
    public static NodeView ToView(NodeRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var cpus = Math.Max(1, row.Cpus);
        var capacity = Math.Max(1, row.Capacity);
        var controls = NodeControls.None;
        if (row.Flags.Contains("blocked")) controls |= NodeControls.Blocked;
        if (row.Flags.Contains("quiet")) controls |= NodeControls.Quiet;
        return new NodeView((ushort)row.Id, (double)capacity / cpus, cpus, row.Load * capacity / LoadMath.ReferenceSpeed,
            row.FreeMemory, (ulong)Math.Max(0, row.TotalMemory), controls, row.State == "alive");
    }
}
