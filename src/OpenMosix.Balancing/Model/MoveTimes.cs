namespace OpenMosix.Balancing.Model;

/// <summary>
/// How long a move out of this node takes: <see cref="SecondsPerByte"/> of image (measured from the node's recent
/// moves by <see cref="Demand.MoveSpeed"/>, or the configured link speed before any), plus the fixed overhead; and
/// <see cref="Pending"/>, the seconds each move already under way or waiting for its turn still needs, in the order
/// they run. Moves out of a node run at most <see cref="BalancerOptions.MaxConcurrentMoves"/> at a time, so a move
/// decided now may first wait for a turn: ushering counts that wait too (<see cref="Policy.UsherSchedule"/>).
/// </summary>
public sealed record MoveTimes(double SecondsPerByte)
{
    /// <summary>Seconds each move already decided still needs (under way: what is left of it; waiting: all of it).</summary>
    public IReadOnlyList<double> Pending { get; init; } = [];

    /// <summary>Before any move was measured: the cost model of the load rule (overhead plus image over the link).</summary>
    public static MoveTimes FromLink(BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MoveTimes(1 / options.LinkBytesPerSecond);
    }

    /// <summary>Seconds a move of an image of <paramref name="bytes"/> takes, once it has its turn.</summary>
    public double MoveSeconds(double bytes, BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MoveOverheadSeconds + Math.Max(bytes, 0) * SecondsPerByte;
    }
}
