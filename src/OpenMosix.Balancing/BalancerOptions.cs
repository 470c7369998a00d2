namespace OpenMosix.Balancing;

/// <summary>The balancer's tunables (omd.toml [balance]; docs/balancing.md explains each).</summary>
public sealed record BalancerOptions
{
    /// <summary>A process moves only if it runs this much faster (relative) where it goes, and the node it leaves is more
    /// loaded than the target will be by this much (in reference CPUs per capacity): the hysteresis against ping-pong.</summary>
    public double Margin { get; init; } = 0.15;
    /// <summary>The expected gain must exceed the cost of the move times this factor.</summary>
    public double CostFactor { get; init; } = 2.0;
    /// <summary>Bytes per second a move's image crosses the link at (the freeze lasts about memory / this).</summary>
    public double LinkBytesPerSecond { get; init; } = 100e6;
    /// <summary>Fixed cost of any move (connect, freeze, restore, commit), in seconds.</summary>
    public double MoveOverheadSeconds { get; init; } = 0.05;
    /// <summary>Processes using less CPU than this gain nothing from a faster node and stay (I/O-bound ones).</summary>
    public double MinDemand { get; init; } = 0.25;
    /// <summary>A process is not moved again for load within this time of its last move.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>At most this many load moves leave a node per round, and at most this many arrive at one.</summary>
    public int MaxOutPerRound { get; init; } = 2;
    public int MaxInPerRound { get; init; } = 1;
    /// <summary>At most this many of the balancer's moves (placements, load, ushering) run at once from a node; the
    /// others wait their turn running. Moves share the node's CPU and its tracer thread: a dozen at once freeze each
    /// process for seconds, a couple at a time for a fraction of a second each.</summary>
    public int MaxConcurrentMoves { get; init; } = 2;
    /// <summary>A process started on a node with no CPU free for it starts on the node where it runs fastest instead
    /// (<see cref="Policy.StartPlacement"/>), rather than waiting to be measured and moved.</summary>
    public bool PlaceAtStart { get; init; } = true;
    /// <summary>Ushering starts when a node's free memory falls below this fraction of its total.</summary>
    public double UsherBelowFreeFraction { get; init; } = 0.10;
    /// <summary>Ushering looks ahead at least this far: memory that processes are growing by (at their measured rate)
    /// until a process's move would end counts as used already, so a node filling fast starts ushering early enough
    /// for the moves to finish. The time a move takes follows the node's measured moves
    /// (<see cref="Policy.UsherSchedule"/>); this is its floor.</summary>
    public TimeSpan UsherLookahead { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Ushering never looks further ahead than this, however slow the node's moves have been.</summary>
    public TimeSpan UsherLookaheadMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A node accepts a guest only if it keeps at least this fraction of its memory free afterwards.</summary>
    public double KeepFreeFraction { get; init; } = 0.10;
}
