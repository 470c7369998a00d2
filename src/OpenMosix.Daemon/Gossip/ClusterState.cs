using System.Collections.Immutable;
using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.Cluster.Map;
using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Daemon.Gossip;

/// <summary>
/// The daemon's knowledge of the cluster: the map in use, this node's identity, and the gossip state. Every member
/// takes one lock; the gossip loop, the receive loop and the admin API call in from their own threads.
/// </summary>
public sealed class ClusterState
{
    private readonly Lock _gate = new();
    private readonly IOriginKeys? _origins;
    private readonly GossipOptions _options;
    private PacketKeys _keys;
    private readonly Func<IReadOnlyList<IPAddress>> _localAddresses;
    private readonly ushort _configuredId;
    private readonly IPAddress? _configuredAddress;
    private readonly Dictionary<string, long> _dropped = new(StringComparer.Ordinal);
    private ClusterMap _map = ClusterMap.Empty;
    private string _mapSource = "none";
    private GossipNode _node;
    private LoadVector _measured;
    private long _sent, _received, _bytesSent, _bytesReceived;

    /// <param name="origins">This node's origin keys: its entries are signed and only signed entries taken; null for
    /// unsigned gossip. The certificate's node must be <paramref name="configuredId"/>.</param>
    public ClusterState(Keyring keyring, IOriginKeys? origins, GossipOptions options, ushort configuredId, IPAddress? configuredAddress,
        Func<IReadOnlyList<IPAddress>> localAddresses, LoadVector initial, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = PacketKeys.ForGossip(keyring);
        _origins = origins;
        // Signed entries are twice as large, so fewer fit a packet and entries refresh less often (docs/gossip.md).
        _options = origins is null ? options : options with { WindowEntries = GossipOptions.SignedWindow(origins.OwnCertificate.Length) };
        _configuredId = configuredId;
        _configuredAddress = configuredAddress;
        _localAddresses = localAddresses;
        var identity = NodeIdentity.Resolve(configuredId, configuredAddress, _map, localAddresses());
        _measured = initial with { NodeId = identity.Id, Address = identity.Address, Protocols = _ownVersions };
        _node = NewNode(identity, now);
    }

    /// <summary>Sends under the new ring's newest active key and accepts all of its keys from now on.</summary>
    public void UseKeyring(Keyring keyring)
    {
        var keys = PacketKeys.ForGossip(keyring);
        lock (_gate)
        {
            _node.UseKeys(keys);
            (_keys, keys) = (keys, _keys);
        }
        keys.Dispose();
    }

    /// <summary>Whether gossip entries are signed by their origin.</summary>
    public bool SignsOrigins
    {
        get
        {
            lock (_gate) return _node.SignsOrigins;
        }
    }

    /// <summary>This node's own vector as last measured.</summary>
    public LoadVector Self
    {
        get
        {
            lock (_gate) return _measured;
        }
    }

    public NodeIdentity Identity
    {
        get
        {
            lock (_gate) return new NodeIdentity(_node.Id, _measured.Address);
        }
    }

    /// <summary>In a cluster means: a map is loaded and it lists this node.</summary>
    public bool InCluster
    {
        get
        {
            lock (_gate) return _map.TryGetNode(_node.Id, out _);
        }
    }

    /// <summary>Replaces the map (setpe -w, omdiscd, start-up) and tells gossip which peers came and went.</summary>
    public MapChange LoadMap(ClusterMap map, string source, DateTimeOffset now)
    {
        lock (_gate)
        {
            var diff = _map.Diff(map);
            _map = map;
            _mapSource = source;
            var identity = NodeIdentity.Resolve(_configuredId, _configuredAddress, map, _localAddresses());
            if (identity.Id != _node.Id || !identity.Address.Equals(_measured.Address))
            {
                _measured = _measured with { NodeId = identity.Id, Address = identity.Address };
                _node = NewNode(identity, now);
            }
            foreach (var id in diff.Removed) _node.RemovePeer(id);
            foreach (var node in map.Nodes) _node.AddPeer(node.Id);
            // Larger clusters refresh each entry less often; the configured times are minimums (docs/gossip.md).
            _node.UseTiming(_options.ScaledFor(Math.Max(1, map.Count)));
            return new MapChange([.. diff.Added.Select(i => (int)i)], [.. diff.Removed.Select(i => (int)i)],
                [.. diff.Changed.Select(i => (int)i)]);
        }
    }

    /// <summary>setpe -off: forget the map; peers stop hearing from us and declare us dead in their own time.</summary>
    public MapChange Leave(DateTimeOffset now) => LoadMap(ClusterMap.Empty, "none", now);

    /// <summary>The address a node is reached at, from the map in use.</summary>
    public IPAddress? AddressOf(ushort node)
    {
        lock (_gate) return _map.TryGetNode(node, out var entry) ? entry.Address : null;
    }

    public MapView Map()
    {
        lock (_gate)
        {
            var nodes = _map.Nodes
                .Select(n => new MapNode(n.Id, n.Address.ToString(), [.. n.Aliases.Select(a => a.ToString())]))
                .ToList();
            return new MapView(_mapSource, _map.ToText(), nodes);
        }
    }

    /// <summary>Publishes a new local reading; only a real change bumps the version gossip spreads as news.</summary>
    public void UpdateSelf(LocalSample sample, NodeResources resources, NodeFlags flags)
    {
        lock (_gate)
        {
            var vector = _measured with
            {
                Load = Math.Round(sample.Load, 2),
                Speed = resources.Speed,
                Cpus = (ushort)resources.Cpus,
                Capacity = resources.Capacity,
                TotalMemory = sample.TotalMemory,
                // Free memory to the nearest MiB: a page here and there is not news worth spreading.
                FreeMemory = sample.FreeMemory >> 20 << 20,
                Flags = flags,
                // In steps of 5 %: finer wobble would make every heartbeat look like news.
                Utilization = (ushort)(Math.Round(sample.Utilization * 20) * 50),
            };
            if (vector == _measured) return;
            _measured = vector;
            _node.UpdateSelf(vector);
        }
    }

    /// <summary>One gossip round: the datagrams to send, addressed by the map.</summary>
    public IReadOnlyList<(IPAddress To, byte[] Packet)> Tick(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_map.TryGetNode(_node.Id, out _)) return [];
            var packets = new List<(IPAddress, byte[])>();
            foreach (var (destination, packet) in _node.OnTick(now))
            {
                if (!_map.TryGetNode(destination, out var node)) continue;
                packets.Add((node.Address, packet));
                _sent++;
                _bytesSent += packet.Length;
            }
            return packets;
        }
    }

    /// <summary>A datagram arrived: only map members may speak, then the codec authenticates it.</summary>
    public void Receive(IPAddress from, ReadOnlySpan<byte> datagram, DateTimeOffset now)
    {
        lock (_gate)
        {
            _received++;
            _bytesReceived += datagram.Length;
            if (!_map.TryGetNode(_node.Id, out _))
            {
                Count("not-in-cluster");
                return;
            }
            if (!_map.TryGetNodeByAddress(from, out _))
            {
                Count("unknown-sender");
                return;
            }
            _node.OnPacket(now, datagram);
        }
    }

    /// <summary>Whether gossip holds <paramref name="node"/> dead now; never a node it has not heard of (node links ask).</summary>
    public bool HoldsDead(ushort node, DateTimeOffset now)
    {
        lock (_gate) return _node.TryGetPeer(node, now, out var peer) && peer.Vector.State == NodeState.Dead;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<ushort, ProtocolRange> _versions = new();

    private ProtocolRange _ownVersions = ProtocolRange.Current;

    /// <summary>The node protocol versions this node speaks (link.protocol_versions): gossiped in its entry, so every
    /// node knows them before any link is made (`om status`, the balancer's choice of targets).</summary>
    public ProtocolRange OwnVersions
    {
        get
        {
            lock (_gate) return _ownVersions;
        }
        set
        {
            lock (_gate)
            {
                _ownVersions = value;
                _measured = _measured with { Protocols = value };
                _node.UpdateSelf(_measured);
            }
        }
    }

    /// <summary>A node link's hello said <paramref name="node"/> speaks <paramref name="versions"/>.</summary>
    public void HeardVersions(ushort node, ProtocolRange versions) => _versions[node] = versions;

    /// <summary>What the node's gossip entry says, or else what a link's hello said (a node that does not gossip its
    /// versions), or "" when neither has been heard.</summary>
    private string VersionsOf(LoadVector vector) =>
        vector.Protocols?.ToString()
        ?? (_versions.TryGetValue(vector.NodeId, out var heard) ? heard.ToString() : "");

    public ClusterView View(DateTimeOffset now)
    {
        lock (_gate)
        {
            var inCluster = _map.TryGetNode(_node.Id, out _);
            var rows = new List<NodeRow>();
            foreach (var peer in _node.Peers(now))
            {
                var isSelf = peer.Vector.NodeId == _node.Id;
                if (!isSelf && !_map.TryGetNode(peer.Vector.NodeId, out _)) continue;
                rows.Add(ToRow(peer, isSelf) with { Protocol = VersionsOf(peer.Vector) });
            }
            // Map nodes never heard from are listed too: an administrator wants to see who is missing.
            foreach (var node in _map.Nodes)
                if (rows.All(r => r.Id != node.Id))
                    rows.Add(new NodeRow(node.Id, node.Address.ToString(), NodeLiveness.Unknown, 0, 0, 0, 0, 0, 0, 0, [], -1, false)
                    {
                        Protocol = _versions.TryGetValue(node.Id, out var heard) ? heard.ToString() : "",
                    });
            rows.Sort((a, b) => a.Id.CompareTo(b.Id));
            return new ClusterView(_node.Id, _measured.Address.ToString(), inCluster ? "map" : "off", rows);
        }
    }

    public GossipStats Stats()
    {
        lock (_gate)
        {
            var rejected = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (reason, count) in _node.RejectedCounts)
                rejected[Kebab(reason.ToString())] = count;
            foreach (var (reason, count) in _dropped)
                rejected[reason] = count;
            return new GossipStats(_sent, _received, _bytesSent, _bytesReceived, rejected,
                (long)_node.Options.SuspectAfter.TotalMilliseconds, (long)_node.Options.DeadAfter.TotalMilliseconds);
        }
    }

    private NodeRow ToRow(PeerStatus peer, bool isSelf)
    {
        var v = peer.Vector;
        return new NodeRow(v.NodeId, v.Address.ToString(), Liveness(v.State), v.Load, v.Speed, v.Cpus,
            v.Capacity, (long)v.TotalMemory, (long)v.FreeMemory, v.Utilization / (double)LoadVector.FullUtilization,
            FlagNames(v.Flags), (long)peer.Age.TotalMilliseconds, isSelf);
    }

    private static NodeLiveness Liveness(NodeState state) => state switch
    {
        NodeState.Alive => NodeLiveness.Alive,
        NodeState.Suspect => NodeLiveness.Suspect,
        NodeState.Dead => NodeLiveness.Dead,
        _ => NodeLiveness.Unknown,
    };

    private static ImmutableArray<string> FlagNames(NodeFlags flags) =>
        [.. Enum.GetValues<NodeFlags>().Where(f => f != NodeFlags.None && flags.HasFlag(f)).Select(f => Kebab(f.ToString()))];

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? $"-{char.ToLowerInvariant(c)}" : $"{char.ToLowerInvariant(c)}"));

    private void Count(string reason) => _dropped[reason] = _dropped.GetValueOrDefault(reason) + 1;

    private GossipNode NewNode(NodeIdentity identity, DateTimeOffset now) =>
        new(_measured with { NodeId = identity.Id, Address = identity.Address }, _map.Nodes.Select(n => n.Id), _keys,
            _options.ScaledFor(Math.Max(1, _map.Count)), new Random(), now, _origins);
}
