using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// The gossip state of one node, free of I/O and clocks: the caller passes <c>now</c>, sends the packets
/// <see cref="OnTick"/> returns and hands received datagrams to <see cref="OnPacket"/>. Not thread-safe; the
/// daemon drives it from one loop.
/// </summary>
public sealed class GossipNode
{
    /// <summary>A signing node sends its certificate every this many rounds (docs/gossip.md, origin signatures).</summary>
    public const int CertificateEveryRounds = 4;

    private GossipOptions _options;
    private PacketKeys _keys;
    private readonly IOriginKeys? _origins;
    /// <summary>Random per run, part of every nonce: see docs/gossip.md (nonces).</summary>
    private readonly ushort _salt = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
    private readonly Random _random;
    private readonly ReplayGuard _guard;
    private readonly Dictionary<ushort, PeerEntry> _table = [];
    private readonly HashSet<ushort> _knownPeers = [];
    /// <summary>The same ids as <see cref="_knownPeers"/>, kept sorted so target choice depends only on the seed.</summary>
    private readonly List<ushort> _targets = [];
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];
    private DateTimeOffset _now;
    private ulong _sequence;
    private long _round;
    private LoadVector _self;
    private byte[]? _selfSignature;
    private ulong _signedVersion;
    private byte[]? _legacySignature;
    private ulong _legacyVersion;
    /// <summary>Peers whose last packet was in format 2: they cannot read format 3, so they are sent format 2, without
    /// protocol versions (docs/gossip.md, protocol versions). A peer never heard is sent format 3.</summary>
    private readonly HashSet<ushort> _legacyPeers = [];

    /// <param name="self">This node's first vector; its version is replaced.</param>
    /// <param name="peers">Node ids to gossip to before anything was heard (usually every node of the map).</param>
    /// <param name="keys">The keyring's gossip keys; the node does not own them (see <see cref="UseKeys"/>).</param>
    /// <param name="origins">When given, this node signs its own entries and accepts only entries signed by their
    /// origin; when null, entries go unsigned and signatures are not checked.</param>
    public GossipNode(LoadVector self, IEnumerable<ushort> peers, PacketKeys keys, GossipOptions options,
        Random random, DateTimeOffset now, IOriginKeys? origins = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (origins is not null && origins.OwnNode != self.NodeId)
            throw new ArgumentException($"the certificate names node {origins.OwnNode}, this node is {self.NodeId}", nameof(origins));
        if (origins is not null && GossipCodec.SignedEntriesBeside(origins.OwnCertificate.Length) < 1)
            throw new ArgumentException($"a {origins.OwnCertificate.Length}-byte certificate leaves no room in a gossip packet", nameof(origins));
        _options = options;
        _keys = keys;
        _origins = origins;
        _random = random;
        _now = now;
        _guard = new ReplayGuard(options.ReplayWindow, () => _now);
        // Start sequence and version from the wall clock so a restarted node is not taken for a replayer and its
        // new vectors are not outranked by the ones the cluster remembers from before the restart.
        var epoch = ClockVersion(now);
        _sequence = epoch;
        _self = self with { State = NodeState.Alive, Version = epoch };
        foreach (var peer in peers)
            AddPeer(peer);
    }

    public ushort Id => _self.NodeId;

    /// <summary>Whether this node signs its entries and requires signatures on everyone's.</summary>
    public bool SignsOrigins => _origins is not null;

    /// <summary>
    /// Sends under, and accepts, the keys of a new keyring from now on (a rotation). Sequences and the replay guard
    /// carry on: they belong to the senders, not to keys. The caller keeps owning the keys and disposes the old ones.
    /// </summary>
    public void UseKeys(PacketKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
    }

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
        _legacyPeers.Remove(id);
        _guard.Forget(id);
    }

    /// <summary>Publishes new local measurements; the version grows so the cluster prefers them.</summary>
    public void UpdateSelf(LoadVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        _self = vector with { NodeId = Id, State = NodeState.Alive, Version = NextVersion() };
    }

    /// <summary>
    /// A version for a new vector of this node: above the last, and never below the clock's (unix ms × 1024), so a
    /// restarted node starts above everything its previous run sent and a version claimed ahead of the clock is
    /// overtaken once the clock gets there. At unix ms × 1024 a u64 lasts until the year 2540: it never wraps.
    /// </summary>
    private ulong NextVersion() => Math.Max(_self.Version + 1, ClockVersion(_now));

    private static ulong ClockVersion(DateTimeOffset time) => (ulong)Math.Max(0, time.ToUnixTimeMilliseconds()) << 10;

    /// <summary>
    /// The highest version any honest node can have sent by <paramref name="now"/>: its clock (within the replay
    /// window of ours) plus the bumps within one millisecond. Anything above is refused, so no entry can push a
    /// version to the end of its range.
    /// </summary>
    private ulong VersionCeiling(DateTimeOffset now) => ClockVersion(now + _guard.Window) | 0x3FF;

    /// <summary>One gossip round: a heartbeat, then the freshest entries to <c>fanout</c> random peers.</summary>
    public IReadOnlyList<(ushort Destination, byte[] Packet)> OnTick(DateTimeOffset now)
    {
        _now = now;
        _self = _self with { Version = NextVersion() };
        var certificate = _origins is not null && _round++ % CertificateEveryRounds == 0
            ? _origins.OwnCertificate.Span : [];
        var capacity = _origins is null ? GossipCodec.MaxEntries : GossipCodec.SignedEntriesBeside(certificate.Length);
        var window = FreshestWindow(now, capacity);
        var entries = window.ConvertAll(w => w.Vector);
        var signatures = _origins is null ? null : window.ConvertAll(w => w.Signature!);
        var targets = PickTargets();
        var packets = new List<(ushort, byte[])>(targets.Count);
        List<LoadVector>? legacyEntries = null;
        List<byte[]>? legacySignatures = null;
        foreach (var target in targets)
        {
            if (!_legacyPeers.Contains(target))
            {
                packets.Add((target, GossipCodec.Encode(new PacketHeader(Id, _salt, ++_sequence), now, entries, signatures,
                    certificate, _keys)));
                continue;
            }
            if (legacyEntries is null) (legacyEntries, legacySignatures) = LegacyWindow(window);
            packets.Add((target, GossipCodec.Encode(new PacketHeader(Id, _salt, ++_sequence), now, legacyEntries, legacySignatures,
                certificate, _keys, GossipCodec.LegacyFormat)));
        }
        return packets;
    }

    /// <summary>
    /// The window as a node of format 2 can take it: this node's own entry without its versions (signed again so),
    /// and the entries that have none; an entry with versions is signed with them and cannot be sent without, so an
    /// older node hears of a newer one only from itself.
    /// </summary>
    private (List<LoadVector>, List<byte[]>?) LegacyWindow(List<(LoadVector Vector, byte[]? Signature)> window)
    {
        var entries = new List<LoadVector> { _self with { Protocols = null } };
        var signatures = _origins is null ? null : new List<byte[]> { LegacySelfSignature()! };
        foreach (var (vector, signature) in window.Skip(1).Where(w => w.Vector.Protocols is null))
        {
            entries.Add(vector);
            signatures?.Add(signature!);
        }
        return (entries, signatures);
    }

    /// <summary>Authenticates and merges a received packet; returns null when accepted, else why it was dropped.</summary>
    public RejectReason? OnPacket(DateTimeOffset now, ReadOnlySpan<byte> data)
    {
        _now = now;
        if (!GossipCodec.TryDecode(data, _keys, _guard, out var packet, out var reason))
            return Count(reason);
        // The sender id is any key holder's word, but so is everything a packet says of its sender's format: the
        // worst a liar gets is a peer sent format 2, which still carries every entry that node needs to know of.
        if (packet.Format == GossipCodec.LegacyFormat && packet.Sender != Id) _legacyPeers.Add(packet.Sender);
        else _legacyPeers.Remove(packet.Sender);
        if (_origins is not null && !packet.IsSigned)
            return Count(RejectReason.Unsigned);
        if (_origins is not null && packet.Certificate is { } certificate && !_origins.Learn(packet.Sender, certificate))
            return Count(RejectReason.BadCertificate);
        var ceiling = VersionCeiling(now);
        var vouched = _origins is null;
        for (var i = 0; i < packet.Entries.Length; i++)
        {
            var entry = packet.Entries[i];
            var signature = packet.IsSigned ? packet.Signatures[i] : null;
            if (entry.Version > ceiling)
            {
                Count(RejectReason.FutureVersion);
                continue;
            }
            if (_origins is not null)
            {
                // Only what would change something is worth an ECDSA check, except the sender's own entry: it proves
                // the sender alive below.
                var fromSender = entry.NodeId == packet.Sender;
                if (!fromSender && !IsNewer(entry))
                    continue;
                if (!_origins.Knows(entry.NodeId))
                {
                    Count(RejectReason.UnknownOrigin);
                    continue;
                }
                if (!_origins.Verify(entry.NodeId, GossipEntryCodec.SignedBytes(entry), signature))
                {
                    Count(RejectReason.BadSignature);
                    continue;
                }
                vouched |= fromSender;
            }
            Merge(entry, signature, now);
        }
        // Hearing from a node directly proves it is alive, whatever its entry says; with origin signatures, only
        // when the packet carries the sender's own signed entry (the sender id in the header is any key holder's word).
        if (vouched && packet.Sender != Id && _table.TryGetValue(packet.Sender, out var sender))
            sender.LastUpdate = now;
        AddPeer(packet.Sender);
        return null;
    }

    private RejectReason Count(RejectReason reason)
    {
        _rejected[(int)reason]++;
        return reason;
    }

    private bool IsNewer(LoadVector entry) =>
        entry.NodeId == Id ? entry.Version >= _self.Version
        : !_table.TryGetValue(entry.NodeId, out var known) || entry.Version > known.Vector.Version;

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

    private void Merge(LoadVector entry, byte[]? signature, DateTimeOffset now)
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
            known.Signature = signature;
            known.LastUpdate = now;
        }
        else
        {
            _table[entry.NodeId] = new PeerEntry(entry, now) { Signature = signature };
            AddPeer(entry.NodeId);
        }
    }

    private List<(LoadVector Vector, byte[]? Signature)> FreshestWindow(DateTimeOffset now, int capacity)
    {
        var window = new List<(LoadVector, byte[]?)>(capacity) { (_self, SelfSignature()) };
        // News first: the changes this node has passed on least often, newest arrivals breaking ties, so a change
        // spreads like a rumour; heartbeats ride along in the remaining room. Dead entries stay in the table for
        // status but are not spread. One pass keeping the best few (not a sort of the table): at 10,000 peers this
        // runs every second on every node.
        var chosen = new PeerEntry[capacity - 1];
        var count = 0;
        foreach (var entry in _table.Values)
        {
            if (StateFor(now - entry.LastUpdate) == NodeState.Dead || (_origins is not null && entry.Signature is null))
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
            window.Add((entry.Vector with { State = StateFor(now - entry.LastUpdate) }, entry.Signature));
        }
        return window;
    }

    /// <summary>This node's signature of its current vector, made once per version.</summary>
    private byte[]? SelfSignature()
    {
        if (_origins is null)
            return null;
        if (_selfSignature is null || _signedVersion != _self.Version)
        {
            _selfSignature = _origins.Sign(GossipEntryCodec.SignedBytes(_self));
            _signedVersion = _self.Version;
        }
        return _selfSignature;
    }

    /// <summary>This node's signature of its current vector without protocol versions, for format-2 peers.</summary>
    private byte[]? LegacySelfSignature()
    {
        if (_origins is null)
            return null;
        if (_legacySignature is null || _legacyVersion != _self.Version)
        {
            _legacySignature = _origins.Sign(GossipEntryCodec.SignedBytes(_self with { Protocols = null }));
            _legacyVersion = _self.Version;
        }
        return _legacySignature;
    }

    private static bool SendsBefore(PeerEntry a, PeerEntry b) =>
        a.TimesSent != b.TimesSent ? a.TimesSent < b.TimesSent
        : a.LastUpdate != b.LastUpdate ? a.LastUpdate > b.LastUpdate
        : a.Vector.NodeId < b.Vector.NodeId;

    // Field by field rather than comparing copies: this runs for every entry of every packet received.
    private static bool SameMeasurements(LoadVector a, LoadVector b) =>
        a.Load.Equals(b.Load) && a.Speed == b.Speed && a.Cpus == b.Cpus && a.Capacity == b.Capacity
        && a.TotalMemory == b.TotalMemory && a.FreeMemory == b.FreeMemory && a.Flags == b.Flags
        && a.NodeId == b.NodeId && a.Address.Equals(b.Address) && a.Protocols == b.Protocols;

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
        /// <summary>The origin's signature of <see cref="Vector"/>, relayed with it; null when unsigned.</summary>
        public byte[]? Signature { get; set; }
        /// <summary>Rounds this version went out in; reset when a newer version arrives.</summary>
        public int TimesSent { get; set; }
    }
}
