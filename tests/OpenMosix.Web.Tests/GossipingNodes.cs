using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;
using OpenMosix.Cluster.Map;
using OpenMosix.Daemon.Gossip;
using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Web.Tests;

/// <summary>
/// Real ClusterStates of nodes 1..N (127.0.0.1..N) gossiping through memory on a clock the test moves: the view node 1
/// shows is what omd's dashboard would show. A node taken down stops gossiping, and the others declare it dead in
/// gossip's own time.
/// </summary>
internal sealed class GossipingNodes
{
    private static readonly GossipOptions Options = new();
    private readonly Dictionary<ushort, ClusterState> _nodes = [];
    private readonly HashSet<ushort> _down = [];
    private readonly Lock _gate = new();

    public GossipingNodes(int count)
    {
        Now = DateTimeOffset.UtcNow;
        var keyring = Keyring.Fresh(1, Now);
        var map = ClusterMap.Parse($"1 127.0.0.1 {count}\n", "test.map");
        for (ushort id = 1; id <= count; id++)
        {
            var address = IPAddress.Parse($"127.0.0.{id}");
            var initial = new LoadVector(id, address, NodeState.Alive, 0.1 * id, 1000u * id, 2, 2000u * id,
                4UL << 30, (4UL << 30) - ((ulong)id << 28), NodeFlags.None, 0);
            var state = new ClusterState(keyring, null, Options, id, address, () => [address], initial, Now);
            state.LoadMap(map, "test.map", Now);
            _nodes[id] = state;
        }
        Rounds(3);
    }

    public DateTimeOffset Now { get; private set; }

    /// <summary>What node 1 sees now.</summary>
    /// <summary>Node 1, whose dashboard the tests look at.</summary>
    public ClusterState Self => _nodes[1];

    public OpenMosix.Admin.ClusterView View()
    {
        lock (_gate) return _nodes[1].View(Now);
    }

    /// <summary>A node measures a new load (and so much memory in use); gossip spreads it.</summary>
    public void SetLoad(ushort node, double load, ulong usedMemory)
    {
        lock (_gate)
        {
            var total = 4UL << 30;
            _nodes[node].UpdateSelf(new LocalSample(load, load, 0.5, total, total - usedMemory), new NodeResources(2, 2, 1000u * node, total), NodeFlags.None);
        }
        Rounds(3);
    }

    /// <summary>A node stops gossiping; once dead_after has passed without a word, the others call it dead.</summary>
    public void TakeDown(ushort node)
    {
        lock (_gate) _down.Add(node);
        Rounds((int)(Options.DeadAfter / Options.Interval) + 3);
    }

    /// <summary>Gossip rounds of one interval each, every packet delivered.</summary>
    public void Rounds(int count)
    {
        lock (_gate)
        {
            for (var round = 0; round < count; round++)
            {
                Now += Options.Interval;
                foreach (var (id, state) in _nodes.Where(n => !_down.Contains(n.Key)))
                    foreach (var (to, packet) in state.Tick(Now))
                        if (_nodes.Values.FirstOrDefault(n => n.Identity.Address.Equals(to)) is { } target && !_down.Contains(target.Identity.Id))
                            target.Receive(IPAddress.Parse($"127.0.0.{id}"), packet, Now);
            }
        }
    }
}
