using OpenMosix.Balancing.Model;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The gossiped load is a decaying average (half-life load.half_life_ms), so a move shows in it only gradually: right
/// after sending a process away, the target still looks idle. Each move is remembered with the part of it the
/// target's average cannot show yet and added to its view, so the next rounds do not send the same node the same room
/// twice: the whole demand while the move is under way (the process is not there yet), then demand × 0.5^(time since
/// it landed / half-life). This node's own load is counted fresh by the caller, so only targets are adjusted.
/// Memory likewise: what a move promises its target is taken off the target's free memory while the move is under
/// way and for <see cref="MemoryShows"/> after it landed, until the target's gossiped figure holds it; without it a
/// node short of memory, ushering every few hundred milliseconds, sent a second big process to the node it had just
/// sent one to, which could hold only one.
/// </summary>
public sealed class RecentMoves(TimeSpan halfLife)
{
    /// <summary>How long after landing a guest's memory takes to show in its node's gossiped free memory: a sample
    /// there, then gossip's way here.</summary>
    public static readonly TimeSpan MemoryShows = TimeSpan.FromSeconds(3);

    private readonly List<Move> _moves = [];

    /// <summary>One move: under way until <see cref="Landed"/> or <see cref="Failed"/> is called.</summary>
    public sealed class Move(ushort to, double demand, long memory)
    {
        public ushort To { get; } = to;
        public double Demand { get; } = demand;
        /// <summary>Bytes of memory the move takes to its target.</summary>
        public long Memory { get; } = memory;
        public TimeSpan? LandedAt { get; private set; }
        public bool Gone { get; private set; }

        public void Landed(TimeSpan at) => LandedAt = at;

        /// <summary>It did not happen: the target gets nothing.</summary>
        public void Failed() => Gone = true;
    }

    public Move Add(ushort to, double demand, long memory = 0)
    {
        var move = new Move(to, demand, Math.Max(0, memory));
        lock (_moves) _moves.Add(move);
        return move;
    }

    public IReadOnlyList<NodeView> Adjust(IReadOnlyList<NodeView> nodes, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var shift = new Dictionary<ushort, (double Load, long Memory)>();
        lock (_moves)
        {
            _moves.RemoveAll(m => m.Gone || (m.LandedAt is { } landed && now - landed > halfLife * 6 && now - landed > MemoryShows));
            foreach (var move in _moves)
            {
                var unseen = move.LandedAt is { } landed ? move.Demand * Math.Pow(0.5, (now - landed) / halfLife) : move.Demand;
                var promised = move.LandedAt is { } at && now - at > MemoryShows ? 0 : move.Memory;
                var (load, memory) = shift.GetValueOrDefault(move.To);
                shift[move.To] = (load + unseen, memory + promised);
            }
        }
        return [.. nodes.Select(n => shift.TryGetValue(n.Id, out var d)
            ? n with { Load = Math.Max(0, n.Load + d.Load), FreeMemory = n.FreeMemory - d.Memory }
            : n)];
    }
}
