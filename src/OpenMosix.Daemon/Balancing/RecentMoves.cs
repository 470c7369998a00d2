using OpenMosix.Balancing.Model;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The gossiped load is a decaying average (half-life load.half_life_ms), so a move shows in it only gradually: right
/// after sending a process away, the target still looks idle. Each move is remembered with the part of it the
/// target's average cannot show yet and added to its view, so the next rounds do not send the same node the same room
/// twice: the whole demand while the move is under way (the process is not there yet), then demand × 0.5^(time since
/// it landed / half-life). This node's own load is counted fresh by the caller, so only targets are adjusted.
/// </summary>
public sealed class RecentMoves(TimeSpan halfLife)
{
    private readonly List<Move> _moves = [];

    /// <summary>One move: under way until <see cref="Landed"/> or <see cref="Failed"/> is called.</summary>
    public sealed class Move(ushort to, double demand)
    {
        public ushort To { get; } = to;
        public double Demand { get; } = demand;
        public TimeSpan? LandedAt { get; private set; }
        public bool Gone { get; private set; }

        public void Landed(TimeSpan at) => LandedAt = at;

        /// <summary>It did not happen: the target gets nothing.</summary>
        public void Failed() => Gone = true;
    }

    public Move Add(ushort to, double demand)
    {
        var move = new Move(to, demand);
        lock (_moves) _moves.Add(move);
        return move;
    }

    public IReadOnlyList<NodeView> Adjust(IReadOnlyList<NodeView> nodes, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var shift = new Dictionary<ushort, double>();
        lock (_moves)
        {
            _moves.RemoveAll(m => m.Gone || (m.LandedAt is { } landed && now - landed > halfLife * 6));
            foreach (var move in _moves)
            {
                var unseen = move.LandedAt is { } landed ? move.Demand * Math.Pow(0.5, (now - landed) / halfLife) : move.Demand;
                shift[move.To] = shift.GetValueOrDefault(move.To) + unseen;
            }
        }
        return [.. nodes.Select(n => shift.TryGetValue(n.Id, out var d) ? n with { Load = Math.Max(0, n.Load + d) } : n)];
    }
}
