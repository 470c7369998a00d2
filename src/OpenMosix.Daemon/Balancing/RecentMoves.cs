using OpenMosix.Balancing.Model;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The gossiped load is a decaying average (half-life load.half_life_ms), so a move shows in it only gradually: right
/// after sending a process away, the target still looks idle and this node still looks busy. Each move is remembered
/// with the part of it the average cannot show yet (its demand × 0.5^(age / half-life)) and added to the views, so
/// the next rounds do not send the same node the same room twice.
/// </summary>
public sealed class RecentMoves(TimeSpan halfLife)
{
    private readonly List<(ushort From, ushort To, double Demand, TimeSpan At)> _moves = [];

    public void Add(ushort from, ushort to, double demand, TimeSpan at)
    {
        lock (_moves) _moves.Add((from, to, demand, at));
    }

    public IReadOnlyList<NodeView> Adjust(IReadOnlyList<NodeView> nodes, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var shift = new Dictionary<ushort, double>();
        lock (_moves)
        {
            _moves.RemoveAll(m => now - m.At > halfLife * 6);
            foreach (var (from, to, demand, at) in _moves)
            {
                var unseen = demand * Math.Pow(0.5, (now - at) / halfLife);
                shift[from] = shift.GetValueOrDefault(from) - unseen;
                shift[to] = shift.GetValueOrDefault(to) + unseen;
            }
        }
        return [.. nodes.Select(n => shift.TryGetValue(n.Id, out var d) ? n with { Load = Math.Max(0, n.Load + d) } : n)];
    }
}
