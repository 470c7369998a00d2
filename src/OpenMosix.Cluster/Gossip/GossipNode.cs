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
    private GossipOptions _options;
    private readonly byte[] _key;
    private readonly Random _random;
    private readonly ReplayGuard _guard;
    private readonly Dictionary<ushort, PeerEntry> _table = [];
    private readonly HashSet<ushort> _knownPeers = [];
    /// <summary>The same ids as <see cref="_knownPeers"/>, kept sorted so target choice depends only on the seed.</summary>
    private readonly List<ushort> _targets = [];
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

    /// <summary>The timing in force (suspect and dead times, fanout).</summary>
    public GossipOptions Options => _options;

    /// <summary>
    /// Changes the timing, e.g. to <see cref="GossipOptions.ScaledFor"/> the new node count after a map reload.
    /// States are derived from ages on demand, so the new times apply at once; the replay window stays as built.
    /// </summary>
    public void UseTiming(GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }
    public LoadVector Self => _self;

    /// <summary>Makes a node a gossip target even before anything was heard from it.</summary>
    public void AddPeer(ushort id)
    {
        if (id != Id && id != 0 && _knownPeers.Add(id))
            _targets.Insert(~_targets.BinarySearch(id), id);
    }

    /// <summary>
    /// Enters vectors as if heard at <paramref name="now"/> and already passed on many times: a steady state, not
    /// news. For simulations that start from a cluster in long operation (instead of paying ~N/4 rounds of
    /// membership first); the caller may share one vector instance among many nodes, as nothing mutates them.
    /// </summary>
    public void Seed(IEnumerable<LoadVector> vectors, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        foreach (var vector in vectors)
        {
            if (vector.NodeId == Id || vector.NodeId == 0 || _table.ContainsKey(vector.NodeId)) continue;
            _table[vector.NodeId] = new PeerEntry(vector, now) { TimesSent = SeededTimesSent };
            AddPeer(vector.NodeId);
        }
    }

    /// <summary>Seeded entries count as sent this often: far behind any real change in the news-first window.</summary>
    private const int SeededTimesSent = 1 << 20;

    /// <summary>Forgets a node (e.g. removed from the map).</summary>
    public void RemovePeer(ushort id)
    {
        if (_knownPeers.Remove(id))
            _targets.RemoveAt(_targets.BinarySearch(id));
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

    /// <summary>
    /// How long ago each known peer's entry last grew, in no particular order and without building status rows:
    /// cheap enough to ask of every node every round, as the simulator does at 10,000 nodes.
    /// </summary>
    public IEnumerable<(ushort Id, TimeSpan Age)> PeerAges(DateTimeOffset now)
    {
        foreach (var (id, entry) in _table)
            yield return (id, now - entry.LastUpdate);
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
        // status but are not spread. One pass keeping the best few (not a sort of the table): at 10,000 peers this
        // runs every second on every node.
        var chosen = new PeerEntry[GossipCodec.MaxEntries - 1];
        var count = 0;
        foreach (var entry in _table.Values)
        {
            if (StateFor(now - entry.LastUpdate) == NodeState.Dead)
                continue;
            if (count == chosen.Length && !SendsBefore(entry, chosen[count - 1]))
                continue;
            var at = count < chosen.Length ? count++ : count - 1;
            while (at > 0 && SendsBefore(entry, chosen[at - 1]))
            {
                chosen[at] = chosen[at - 1];
                at--;
            }
            chosen[at] = entry;
        }
        for (var i = 0; i < count; i++)
        {
            var entry = chosen[i];
            entry.TimesSent++;
            window.Add(entry.Vector with { State = StateFor(now - entry.LastUpdate) });
        }
        return window;
    }

    private static bool SendsBefore(PeerEntry a, PeerEntry b) =>
        a.TimesSent != b.TimesSent ? a.TimesSent < b.TimesSent
        : a.LastUpdate != b.LastUpdate ? a.LastUpdate > b.LastUpdate
        : a.Vector.NodeId < b.Vector.NodeId;

    // Field by field rather than comparing copies: this runs for every entry of every packet received.
    private static bool SameMeasurements(LoadVector a, LoadVector b) =>
        a.Load.Equals(b.Load) && a.Speed == b.Speed && a.Cpus == b.Cpus && a.Capacity == b.Capacity
        && a.TotalMemory == b.TotalMemory && a.FreeMemory == b.FreeMemory && a.Flags == b.Flags
        && a.NodeId == b.NodeId && a.Address.Equals(b.Address);

    private List<ushort> PickTargets()
    {
        // Dead peers stay candidates: gossiping to them is how a healed partition finds its way back. Floyd's
        // sampling draws fanout distinct peers with fanout random numbers, without copying the peer list.
        var total = _targets.Count;
        var count = Math.Min(_options.Fanout, total);
        var picked = new List<ushort>(count);
        for (var last = total - count; last < total; last++)
        {
            var candidate = _targets[_random.Next(last + 1)];
            picked.Add(picked.Contains(candidate) ? _targets[last] : candidate);
        }
        return picked;
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
