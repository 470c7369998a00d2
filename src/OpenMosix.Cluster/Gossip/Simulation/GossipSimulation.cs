using System.Net;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Gossip.Simulation;

/// <summary>
/// N real <see cref="GossipNode"/>s exchanging real, encrypted and authenticated (unsigned) packets over a simulated network in virtual
/// time: nothing sleeps and nothing touches a socket, so thousands of nodes run many rounds in seconds. The same
/// seed, options and sequence of calls give exactly the same run. Node ids are 1..N; nodes can crash (they stop
/// ticking and everything sent to them is lost), restart with a fresh state as a restarted daemon would, and join.
/// </summary>
public sealed class GossipSimulation
{
    private static readonly Keyring SimulationKeys = KeyringText.Parse("openMosix.NET gossip simulation key"u8);

    /// <summary>One AES-GCM context per simulation: the contexts are not thread-safe and tests run simulations in parallel.</summary>
    private readonly PacketKeys _keys = PacketKeys.ForGossip(SimulationKeys);

    private readonly SimulatedNode?[] _nodes = new SimulatedNode?[ushort.MaxValue + 1];
    private readonly List<ushort> _ids = [];
    private readonly PriorityQueue<Delivery, (long Ticks, long Sequence)> _events = new();
    private readonly GossipOptions _options;
    private readonly NetworkConditions _network;
    private readonly Random _random;
    private readonly int _seed;
    private long _eventSequence;

    public GossipSimulation(int nodeCount, int seed, GossipOptions options, NetworkConditions? network = null,
        DateTimeOffset? start = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodeCount, ushort.MaxValue - 1);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _network = network ?? new NetworkConditions();
        _network.Validate();
        _options = options;
        _seed = seed;
        _random = new Random(seed);
        Now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(1, nodeCount).Select(i => (ushort)i).ToArray();
        foreach (var id in ids)
            Start(id, ids);
    }

    public DateTimeOffset Now { get; private set; }
    public int Round { get; private set; }
    public TrafficCounters Traffic { get; } = new();
    public GossipOptions Options => _options;

    /// <summary>Every node id ever started, up or down, in ascending order.</summary>
    public IReadOnlyList<ushort> Ids => _ids;

    public int UpCount => _ids.Count(IsUp);

    public bool IsUp(ushort id) => _nodes[id] is { Up: true };

    public GossipNode Node(ushort id) =>
        _nodes[id]?.Gossip ?? throw new ArgumentOutOfRangeException(nameof(id), $"node {id} is not in the simulation");

    /// <summary>The node stops ticking; datagrams already on their way to it, and later ones, are lost.</summary>
    public void Crash(ushort id)
    {
        var node = _nodes[id] ?? throw new ArgumentOutOfRangeException(nameof(id), $"node {id} is not in the simulation");
        node.Up = false;
    }

    /// <summary>A crashed node comes back as a restarted daemon: fresh state, knowing only the map.</summary>
    public void Restart(ushort id)
    {
        if (_nodes[id] is not { Up: false })
            throw new InvalidOperationException($"node {id} is not a crashed node of the simulation");
        Start(id, _ids);
    }

    /// <summary>
    /// A new node starts with the current map; the others learn of it only from its gossip, as with a map loaded
    /// on the new node first. Returns its id.
    /// </summary>
    public ushort Join()
    {
        var id = (ushort)(_ids[^1] + 1);
        if (id == ushort.MaxValue)
            throw new InvalidOperationException("no node id left");
        Start(id, [.. _ids, id]);
        return id;
    }

    /// <summary>Publishes a new load at a node (a change the cluster has to learn).</summary>
    /// <summary>
    /// Puts every node in the steady state of a cluster in long operation: each holds a current entry for every other
    /// (one shared vector instance per node, so 10,000 nodes fit in memory), none of it news.
    /// </summary>
    public void WarmStart()
    {
        var vectors = _ids.Where(IsUp).Select(id => Node(id).Self).ToList();
        foreach (var id in _ids)
            if (IsUp(id)) Node(id).Seed(vectors, Now);
    }

    public void ChangeLoad(ushort id, double load)
    {
        var node = Node(id);
        node.UpdateSelf(node.Self with { Load = load });
    }

    /// <summary>
    /// One gossip interval: every up node ticks once (at its phase) and every datagram due before the end of the
    /// interval is delivered in time order.
    /// </summary>
    public void RunRound()
    {
        var end = Now + _options.Interval;
        foreach (var id in _ids)
        {
            if (_nodes[id] is { Up: true } node)
                Schedule(Now + node.Phase, id, null);
        }
        while (_events.TryPeek(out _, out var due) && due.Ticks < end.UtcTicks)
        {
            var delivery = _events.Dequeue();
            var at = new DateTimeOffset(due.Ticks, TimeSpan.Zero);
            if (delivery.Packet is null)
                Tick(delivery.Destination, at);
            else
                Deliver(delivery.Destination, delivery.Packet, at);
        }
        Now = end;
        Round++;
    }

    /// <summary>Up nodes other than <paramref name="subject"/> whose view of it satisfies <paramref name="seen"/>.</summary>
    public int CountKnowing(ushort subject, Func<PeerStatus, bool> seen)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var count = 0;
        foreach (var id in _ids)
        {
            if (id != subject && _nodes[id] is { Up: true } node && node.Gossip.TryGetPeer(subject, Now, out var status)
                && seen(status))
                count++;
        }
        return count;
    }

    /// <summary>
    /// The age of the stalest entry any up node holds about another up node: when it reaches
    /// <see cref="GossipOptions.SuspectAfter"/>, a live node is wrongly suspected.
    /// </summary>
    public TimeSpan StalestLiveEntry()
    {
        var stalest = TimeSpan.Zero;
        foreach (var id in _ids)
        {
            if (_nodes[id] is not { Up: true } node)
                continue;
            foreach (var (peer, age) in node.Gossip.PeerAges(Now))
            {
                if (age > stalest && IsUp(peer))
                    stalest = age;
            }
        }
        return stalest;
    }

    private void Start(ushort id, IReadOnlyList<ushort> map)
    {
        var measurements = new LoadVector(id, new IPAddress([10, (byte)(id >> 16), (byte)(id >> 8), (byte)id]),
            NodeState.Alive, 0.5, LoadVector.ReferenceSpeed, 4, 4 * LoadVector.ReferenceSpeed, 16UL << 30, 8UL << 30,
            NodeFlags.None, 0);
        var previous = _nodes[id];
        var generation = previous is null ? 0 : previous.Generation + 1;
        // Each node draws from its own generator, so what one node does never shifts another's choices.
        var random = new Random(unchecked((_seed * 1_000_003) + (id * 65_599) + generation));
        var phase = previous?.Phase
            ?? (_network.RandomPhases ? TimeSpan.FromTicks(_random.NextInt64(_options.Interval.Ticks)) : TimeSpan.Zero);
        _nodes[id] = new SimulatedNode(new GossipNode(measurements, map, _keys, _options, random, Now), phase, generation);
        if (previous is null)
            _ids.Add(id);
    }

    private void Tick(ushort id, DateTimeOffset at)
    {
        if (_nodes[id] is not { Up: true } node)
            return;
        foreach (var (destination, packet) in node.Gossip.OnTick(at))
        {
            Traffic.PacketsSent++;
            Traffic.BytesSent += packet.Length;
            if (_network.LossRate > 0 && _random.NextDouble() < _network.LossRate)
            {
                Traffic.PacketsLost++;
                continue;
            }
            var delay = _network.Latency;
            if (_network.Jitter > TimeSpan.Zero)
                delay += TimeSpan.FromTicks(_random.NextInt64(_network.Jitter.Ticks));
            Schedule(at + delay, destination, packet);
        }
    }

    private void Deliver(ushort id, byte[] packet, DateTimeOffset at)
    {
        if (_nodes[id] is not { Up: true } node)
        {
            Traffic.PacketsToDownNodes++;
            return;
        }
        if (node.Gossip.OnPacket(at, packet) is not null)
            Traffic.PacketsRejected++;
    }

    private void Schedule(DateTimeOffset at, ushort destination, byte[]? packet) =>
        _events.Enqueue(new Delivery(destination, packet), (at.UtcTicks, _eventSequence++));

    /// <summary>A datagram in flight, or (no packet) a node's tick.</summary>
    private readonly record struct Delivery(ushort Destination, byte[]? Packet);

    private sealed class SimulatedNode(GossipNode gossip, TimeSpan phase, int generation)
    {
        public GossipNode Gossip { get; } = gossip;
        public TimeSpan Phase { get; } = phase;
        public int Generation { get; } = generation;
        public bool Up { get; set; } = true;
    }
}
