using OpenMosix.Admin;
using OpenMosix.Lab.Host;
using OpenMosix.Lab.State;

namespace OpenMosix.Lab;

/// <summary>Reads a lab's state file and checks each node against the kernel: namespace, cgroup limits, daemons.</summary>
public static class LabInspector
{
    // cgroup v1 reports "no limit" as the largest page-aligned long.
    private const long UnlimitedMemory = 1L << 62;

    public static LabStatus Inspect(LabLayout layout)
    {
        var state = LabStateStore.Load(layout);
        var netns = IpRoute.NetworkNamespaces().ToHashSet(StringComparer.Ordinal);
        var ports = BridgePort.States();
        var nodes = state.Nodes.Select(node =>
        {
            var cgroups = NodeCgroups.Of(layout, node.Id);
            var quota = cgroups.CpuQuotaMicroseconds;
            var limit = cgroups.MemoryLimitBytes;
            return new NodeStatus(
                node.Id,
                node.Address,
                netns.Contains(layout.Name.NetworkNamespace(node.Id)),
                quota,
                quota is > 0 ? quota.Value / (double)NodeCgroups.PeriodMicroseconds : null,
                limit is { } l && l < UnlimitedMemory ? l : null,
                node.DaemonPid,
                node.DaemonPid is { } d && IsInNode(layout, node.Id, d),
                SocketProbe.Accepts(layout.NodeHostSocket(node.Id)),
                node.DiscoverPid,
                node.DiscoverPid is { } p && IsInNode(layout, node.Id, p),
                node.Killed,
                ports.TryGetValue(DelayRelays.BridgePortOf(layout, node), out var port) && port == "disabled",
                node.Netem,
                node.DaemonRestarts,
                node.Revivals);
        }).ToList();
        return new LabStatus(state.Name, $"{SubnetAllocator.Address(state.Subnet, 0)}/24", layout.Name.Bridge, state.Discovery, state.Created, nodes);
    }

    /// <summary>Alive and still in the node's cpu cgroup: a recycled PID that belongs to something else does not count.</summary>
    public static bool IsInNode(LabLayout layout, int node, int pid)
    {
        try
        {
            var suffix = $"/{layout.Name.CgroupGroup}/n{node}";
            return File.ReadLines($"/proc/{pid}/cgroup").Any(line =>
            {
                var fields = line.Split(':', 3);
                return fields.Length == 3 && fields[1].Split(',').Contains("cpu") && fields[2].EndsWith(suffix, StringComparison.Ordinal);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
