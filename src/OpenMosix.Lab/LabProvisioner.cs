using Microsoft.Extensions.Logging;
using OpenMosix.Lab.Host;
using OpenMosix.Lab.State;

namespace OpenMosix.Lab;

/// <summary>
/// `om lab up`: builds every node (network namespace on the lab's bridge, mount namespace, cgroups, omd config), then
/// starts the daemons and waits until each accepts connections. Either the whole lab comes up, or whatever was built
/// is removed again and the error says which step failed.
/// </summary>
public static class LabProvisioner
{
    public static LabState Up(LabSpec spec, string omPath, ILogger logger)
    {
        if (!Environment.IsPrivilegedProcess) throw new LabException("lab up: the lab needs root (namespaces, cgroups, links)");
        NodeCgroups.RequireControllers();
        var layout = new LabLayout(spec.Name);
        using var labLock = LabLock.Acquire();

        // A name in use is refused, never silently reused: what is there may be someone's running lab.
        var existing = LabInventory.Take(layout);
        if (!existing.IsEmpty)
            throw new LabException($"lab {spec.Name} already exists ({existing.Describe()}); `om lab down --name {spec.Name}` removes it");

        var subnet = SubnetAllocator.Allocate(spec.Name);
        var nodes = spec.Nodes.Select((r, i) => new NodeState(i + 1, SubnetAllocator.Address(subnet, i + 1), r.Cpus, r.MemoryLimitBytes)).ToList();
        var state = new LabState(spec.Name.Value, subnet, spec.Discovery, DateTimeOffset.UtcNow, nodes) { Balance = spec.Balance, CheckpointIntervalMs = spec.CheckpointIntervalMs, Postcopy = spec.Postcopy, PrecopyRounds = spec.PrecopyRounds, BandwidthLimit = spec.BandwidthLimit };
        logger.LogDebug("Lab {Lab}: {Nodes} nodes on 10.77.{Subnet}.0/24", spec.Name, nodes.Count, subnet);
        try
        {
            // The state goes first, so that even a crash half-way leaves a lab that `down` recognises by its files.
            LabStateStore.Save(layout, state);
            Build(layout, state);
            if (spec.StartDaemons) state = StartDaemons(layout, state, omPath, spec.ReadyTimeout, logger);
            return state;
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "Lab {Lab} failed to come up; removing what was built", spec.Name);
            try
            {
                LabTeardown.Remove(layout, logger);
            }
            catch (LabException cleanup)
            {
                logger.LogWarning("Cleaning up after the failed start left something behind: {Problem}", cleanup.Message);
            }
            throw;
        }
    }

    private static void Build(LabLayout layout, LabState state)
    {
        foreach (var node in state.Nodes)
        {
            // /run is a tmpfs on the systems omd runs on, and omd rewrites its /run/openmosix views every second. On a
            // machine whose /run is on disk each rewrite cost an ext4 create, a rename and a writeback: a quarter of an
            // idle lab omd's CPU (docs/performance.md). The lab gives each node the tmpfs a real node has.
            var run = layout.NodeHostRunDirectory(node.Id);
            Directory.CreateDirectory(run);
            ToolRun.Run($"mount a tmpfs on node {node.Id}'s run directory", "mount", "-t", "tmpfs", "-o", "mode=0755,size=256m", $"omlab-{node.Id}", run);
        }
        NodeFiles.WriteShared(layout, state);
        foreach (var node in state.Nodes) NodeFiles.WriteNodeConfig(layout, state, node);

        IpRoute.AddBridge(layout.Name.Bridge, $"{SubnetAllocator.BridgeAddress(state.Subnet)}/24");
        MountNamespaces.PrepareHolder(layout.MountNamespaceDirectory);
        foreach (var node in state.Nodes)
        {
            var netns = layout.Name.NetworkNamespace(node.Id);
            IpRoute.AddNetworkNamespace(netns);
            IpRoute.AddNodeLink(netns, layout.Name.HostVeth(node.Id), layout.Name.Bridge, $"{node.Address}/24");
            MountNamespaces.Create(layout.MountNamespaceFile(node.Id), layout.NodeHostRunDirectory(node.Id), LabLayout.NodeRunDirectory);
            NodeCgroups.Of(layout, node.Id).Create(node.Cpus, node.MemoryLimitBytes);
        }
    }

    private static LabState StartDaemons(LabLayout layout, LabState state, string omPath, TimeSpan timeout, ILogger logger)
    {
        var pending = new List<PendingDaemon>();
        var nodes = new List<NodeState>();
        foreach (var node in state.Nodes)
        {
            var (started, daemon) = NodeDaemons.Start(layout, node, omPath, state.Discovery);
            logger.LogDebug("Node {Node}: daemon PID {Daemon}, discovery PID {Discover}", node.Id, started.DaemonPid, started.DiscoverPid);
            nodes.Add(started);
            pending.Add(daemon);
        }
        state = state with { Nodes = nodes };
        LabStateStore.Save(layout, state);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        DaemonReadiness.WaitAll(pending, timeout);
        ClusterReadiness.WaitAllAlive(pending, state.Nodes.Count, timeout - clock.Elapsed);
        return state;
    }
}
