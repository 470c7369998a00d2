using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// The gossip state of one node, free of I/O and clocks: the caller passes <c>now</c>, sends the packets
/// <see cref="OnTick"/> returns and hands received datagrams to <see cref="OnPacket"/>. Not thread-safe; the
/// daemon drives it from one loop.
/// </summary>
public sealed class GossipNode
{
    private readonly GossipOptions _options;
    private readonly byte[] _key;
    private readonly Random _random;
    private readonly ReplayGuard _guard;
    private readonly Dictionary<ushort, PeerEntry> _table = [];
    private readonly HashSet<ushort> _knownPeers = [];
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];
    private DateTimeOffset _now;
    private ulong _sequence;
    private LoadVector _self;

    /// <param name="self">This node's first vector; its version is replaced.</param>
    /// <param name="peers">Node ids to gossip to before anything was heard (usually every node of the map).</param>
    public GossipNode(LoadVector self, IEnumerable<ushort> peers, ReadOnlySpan<byte> key, GossipOptions options,
        Random random, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (key.Length < GossipCodec.MinKeySize)
            throw new ArgumentException($"the cluster key must be at least {GossipCodec.MinKeySize} bytes", nameof(key));
        _options = options;
        _key = key.ToArray();
        _random = random;
        _now = now;
        _guard = new ReplayGuard(options.ReplayWindow, () => _now);
        // Start sequence and version from the wall clock so a restarted node is not taken for a replayer and its
        // new vectors are not outranked by the ones the cluster remembers from before the restart.
        var epoch = (ulong)Math.Max(0, now.ToUnixTimeMilliseconds()) << 10;
        _sequence = epoch;
        _self = self with { State = NodeState.Alive, Version = epoch };
        foreach (var peer in peers)
            AddPeer(peer);
    }

    public ushort Id => _self.NodeId;
    public LoadVector Self => _self;

    /// <summary>Makes a node a gossip target even before anything was heard from it.</summary>
    public void AddPeer(ushort id)
    {
        if (id != Id && id != 0)
            _knownPeers.Add(id);
    }

    /// <summary>Forgets a node (e.g. removed from the map).</summary>
    public void RemovePeer(ushort id)
    {
        _knownPeers.Remove(id);
        _table.Remove(id);
        _guard.Forget(id);
    }

    /// <summary>Publishes new local measurements; the version grows so the cluster prefers them.</summary>
    public void UpdateSelf(LoadVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        _self = vector with { NodeId = Id, State = NodeState.Alive, Version = _self.Version + 1 };
    }

    /// <summary>One gossip round: a heartbeat, then the freshest entries to <c>fanout</c> random peers.</summary>
    public IReadOnlyList<(ushort Destination, byte[] Packet)> OnTick(DateTimeOffset now)
    {
        _now = now;
        _self = _self with { Version = _self.Version + 1 };
        var entries = FreshestWindow(now);
        var targets = PickTargets();
        var packets = new List<(ushort, byte[])>(targets.Count);
        foreach (var target in targets)
            packets.Add((target, GossipCodec.Encode(Id, ++_sequence, now, entries, _key)));
        return packets;
    }

    /// <summary>Authenticates and merges a received packet; returns null when accepted, else why it was dropped.</summary>
    public RejectReason? OnPacket(DateTimeOffset now, ReadOnlySpan<byte> data)
    {
        _now = now;
        if (!GossipCodec.TryDecode(data, _key, _guard, out var packet, out var reason))
        {
            _rejected[(int)reason]++;
            return reason;
        }
        foreach (var entry in packet.Entries)
            Merge(entry, now);
        // Hearing from a node directly proves it is alive, whatever its entry says.
        if (packet.Sender != Id && _table.TryGetValue(packet.Sender, out var sender))
            sender.LastUpdate = now;
        AddPeer(packet.Sender);
        return null;
    }

    /// <summary>The current view, self included, in node id order, with states as of <paramref name="now"/>.</summary>
    public IReadOnlyList<PeerStatus> Peers(DateTimeOffset now)
    {
        var rows = new List<PeerStatus>(_table.Count + 1) { new(_self, TimeSpan.Zero) };
        foreach (var entry in _table.Values)
        {
            var age = now - entry.LastUpdate;
            rows.Add(new PeerStatus(entry.Vector with { State = StateFor(age) }, age));
        }
        rows.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        return rows;
    }

    public bool TryGetPeer(ushort id, DateTimeOffset now, [MaybeNullWhen(false)] out PeerStatus status)
    {
        if (id == Id)
        {
            status = new PeerStatus(_self, TimeSpan.Zero);
            return true;
        }
        if (_table.TryGetValue(id, out var entry))
        {
            var age = now - entry.LastUpdate;
            status = new PeerStatus(entry.Vector with { State = StateFor(age) }, age);
            return true;
        }
        status = null;
        return false;
    }

    public long RejectedCount(RejectReason reason) => _rejected[(int)reason];

    public ImmutableDictionary<RejectReason, long> RejectedCounts =>
        Enum.GetValues<RejectReason>().ToImmutableDictionary(reason => reason, reason => _rejected[(int)reason]);

    private void Merge(LoadVector entry, DateTimeOffset now)
    {
        if (entry.NodeId == Id)
        {
            // Someone holds a newer vector of ours than we do (we restarted with a slow clock): jump past it.
            if (entry.Version >= _self.Version)
                _self = _self with { Version = entry.Version + 1 };
            return;
        }
        if (_table.TryGetValue(entry.NodeId, out var known))
        {
            if (entry.Version <= known.Vector.Version)
                return;
            // A heartbeat (same measurements, higher version) is not news: only real changes jump the queue, or at
            // a few hundred nodes the heartbeats of everyone would crowd a change out of the 18-entry window.
            if (!SameMeasurements(known.Vector, entry))
                known.TimesSent = 0;
            known.Vector = entry;
            known.LastUpdate = now;
        }
        else
        {
            _table[entry.NodeId] = new PeerEntry(entry, now);
            AddPeer(entry.NodeId);
        }
    }

    private List<LoadVector> FreshestWindow(DateTimeOffset now)
    {
        var window = new List<LoadVector>(GossipCodec.MaxEntries) { _self };
        // News first: the changes this node has passed on least often, newest arrivals breaking ties, so a change
        // spreads like a rumour; heartbeats ride along in the remaining room. Dead entries stay in the table for
        // status but are not spread.
        var chosen = _table.Values
            .Where(entry => StateFor(now - entry.LastUpdate) != NodeState.Dead)
            .OrderBy(entry => entry.TimesSent)
            .ThenByDescending(entry => entry.LastUpdate)
            .ThenBy(entry => entry.Vector.NodeId)
            .Take(GossipCodec.MaxEntries - 1)
            .ToList();
        foreach (var entry in chosen)
        {
            entry.TimesSent++;
            window.Add(entry.Vector with { State = StateFor(now - entry.LastUpdate) });
        }
        return window;
    }

    private static bool SameMeasurements(LoadVector a, LoadVector b) =>
        a with { Version = 0, State = NodeState.Alive } == b with { Version = 0, State = NodeState.Alive };

    private List<ushort> PickTargets()
    {
        // Dead peers stay candidates: gossiping to them is how a healed partition finds its way back.
        var candidates = _knownPeers.Order().ToArray();
        var count = Math.Min(_options.Fanout, candidates.Length);
        for (var i = 0; i < count; i++)
        {
            var j = _random.Next(i, candidates.Length);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        return [.. candidates.Take(count)];
    }

    private NodeState StateFor(TimeSpan age) =>
        age >= _options.DeadAfter ? NodeState.Dead
        : age >= _options.SuspectAfter ? NodeState.Suspect
        : NodeState.Alive;

    private sealed class PeerEntry(LoadVector vector, DateTimeOffset lastUpdate)
    {
        public LoadVector Vector { get; set; } = vector;
        public DateTimeOffset LastUpdate { get; set; } = lastUpdate;
        /// <summary>Rounds this version went out in; reset when a newer version arrives.</summary>
        public int TimesSent { get; set; }
    }
}
