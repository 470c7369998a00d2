using System.Globalization;

namespace OpenMosix.Balancing.Demand;

/// <summary>
/// The half-lives of slow and fast decay (omd.toml balance.slow_half_life_ms / fast_half_life_ms, mosctl setdecay).
/// A record, so an estimator can be handed a new pair between two samples without any locking.
/// </summary>
public sealed record DecayRates(TimeSpan Slow, TimeSpan Fast)
{
    /// <summary>openMosix.NET's defaults: a minute of history for slow decay, a few seconds for fast.</summary>
    public static readonly DecayRates Default = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(4));

    /// <summary>Shortest and longest half-life accepted: below 0.1 s a sample (omd takes one a second) is all
    /// history; above a day a process would be judged by what it did long ago.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(100), Longest = TimeSpan.FromDays(1);

    /// <summary>The half-life a decay mode uses (None has none: the estimator takes the lifetime average).</summary>
    public TimeSpan HalfLife(DecayMode mode) => mode == DecayMode.Fast ? Fast : Slow;

    /// <summary>
    /// Why this pair cannot be used, or null. Fast longer than slow is refused: the names would then mean the
    /// opposite of what mosrun -s / -f promise, and a user who wants one rate for all can set both equal.
    /// </summary>
    public string? Problem()
    {
        if (Slow < Shortest || Slow > Longest) return $"the slow half-life must be between {Seconds(Shortest)} s and {Seconds(Longest)} s (got {Seconds(Slow)} s)";
        if (Fast < Shortest || Fast > Longest) return $"the fast half-life must be between {Seconds(Shortest)} s and {Seconds(Longest)} s (got {Seconds(Fast)} s)";
        if (Fast > Slow) return $"the fast half-life ({Seconds(Fast)} s) must not be longer than the slow one ({Seconds(Slow)} s)";
        return null;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
