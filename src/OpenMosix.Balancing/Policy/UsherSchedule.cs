using OpenMosix.Balancing.Model;

namespace OpenMosix.Balancing.Policy;

/// <summary>
/// How far memory ushering looks ahead for each process: until its move would end. A process's move starts when one
/// of the node's <see cref="BalancerOptions.MaxConcurrentMoves"/> turns is free (after the moves already decided,
/// <see cref="MoveTimes.Pending"/>, and those this round decided before it) and lasts the overhead plus its size at
/// the node's measured speed. The node must still have its ushering mark free when that move ends, at the rate its
/// processes grow: otherwise the process must leave now, since later its move would end after the memory ran out.
/// The look-ahead is at least <see cref="BalancerOptions.UsherLookahead"/> (omd.toml's usher_lookahead_ms, a floor)
/// and at most <see cref="BalancerOptions.UsherLookaheadMax"/>.
/// </summary>
public sealed class UsherSchedule
{
    private readonly BalancerOptions _options;
    private readonly MoveTimes _times;
    private readonly PriorityQueue<double, double> _turns = new();

    public UsherSchedule(MoveTimes times, BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(options);
        _times = times;
        _options = options;
        for (var i = 0; i < Math.Max(1, options.MaxConcurrentMoves); i++) _turns.Enqueue(0, 0);
        foreach (var seconds in times.Pending) Take(Math.Max(0, seconds));
    }

    /// <summary>Seconds from now until a move of <paramref name="bytes"/> decided next would end, within the floor and
    /// the ceiling.</summary>
    public double Lookahead(double bytes) => Bound(_turns.Peek() + _times.MoveSeconds(bytes, _options), _options);

    /// <summary>A move of <paramref name="bytes"/> is decided: it takes the first turn free.</summary>
    public void Decided(double bytes) => Take(_times.MoveSeconds(bytes, _options));

    /// <summary>The look-ahead kept between the floor and the ceiling.</summary>
    public static double Bound(double seconds, BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var floor = options.UsherLookahead.TotalSeconds;
        return Math.Clamp(seconds, floor, Math.Max(floor, options.UsherLookaheadMax.TotalSeconds));
    }

    private void Take(double seconds)
    {
        var start = _turns.Dequeue();
        _turns.Enqueue(start + seconds, start + seconds);
    }
}
