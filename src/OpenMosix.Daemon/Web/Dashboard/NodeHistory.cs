namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>One reading of a node for the dashboard's charts: when, its load, and the memory in use.</summary>
public readonly record struct HistorySample(long AtMs, double Load, long UsedMemory);

/// <summary>
/// The last <see cref="Capacity"/> readings of load and memory of every node, taken from the cluster view every
/// <see cref="Interval"/> (2 s for 10 minutes by default). Memory is bounded: a ring of fixed size per node, at most
/// <see cref="MaxNodes"/> nodes (the lowest ids), and a node that leaves the map takes its ring with it.
/// </summary>
public sealed class NodeHistory(TimeSpan interval, int capacity)
{
    public const int MaxNodes = 1024;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<int, Ring> _nodes = [];

    public NodeHistory() : this(TimeSpan.FromSeconds(2), 300)
    {
    }

    public TimeSpan Interval { get; } = interval;
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>How many readings were ever taken: the page fetches the history again when it changes.</summary>
    public long Version { get; private set; }

    /// <summary>Takes a reading of every node the view knows figures of; dead and never-heard nodes get none (a gap).</summary>
    public void Record(ClusterView view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        var at = now.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            foreach (var gone in _nodes.Keys.Where(id => view.Nodes.All(n => n.Id != id)).ToList()) _nodes.Remove(gone);
            foreach (var node in view.Nodes.OrderBy(n => n.Id))
            {
                if (node.AgeMs < 0 || node.State is NodeLiveness.Dead or NodeLiveness.Unknown) continue;
                if (!_nodes.TryGetValue(node.Id, out var ring))
                {
                    if (_nodes.Count >= MaxNodes) continue;
                    _nodes[node.Id] = ring = new Ring(Capacity);
                }
                ring.Add(new HistorySample(at, node.Load, Math.Max(0, node.TotalMemory - node.FreeMemory)));
            }
            Version++;
        }
    }

    /// <summary>Every node's readings, oldest first.</summary>
    public HistoryView View()
    {
        lock (_gate)
        {
            var nodes = _nodes.Select(pair => ToView(pair.Key, pair.Value.Oldest())).ToList();
            return new HistoryView((long)Interval.TotalMilliseconds, Version, nodes);
        }
    }

    private static NodeHistoryView ToView(int id, List<HistorySample> samples) =>
        new(id, [.. samples.Select(s => s.AtMs)], [.. samples.Select(s => Math.Round(s.Load, 3))], [.. samples.Select(s => s.UsedMemory)]);

    /// <summary>A fixed array written round: the newest reading overwrites the oldest.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly HistorySample[] _items = new HistorySample[capacity];
        private int _next;
        private int _count;

        public void Add(HistorySample sample)
        {
            _items[_next] = sample;
            _next = (_next + 1) % _items.Length;
            _count = Math.Min(_count + 1, _items.Length);
        }

        public List<HistorySample> Oldest()
        {
            var list = new List<HistorySample>(_count);
            for (var i = 0; i < _count; i++) list.Add(_items[(_next - _count + i + _items.Length) % _items.Length]);
            return list;
        }
    }
}
