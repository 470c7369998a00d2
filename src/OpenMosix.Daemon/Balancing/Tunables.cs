using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// `mosctl gettune`: the balancer's tunables in effect, named and scaled as in omd.toml's [balance] section, so
/// that what it prints can be pasted into the file. The half-lives are those in effect now (after any setdecay).
/// </summary>
public static class Tunables
{
    public static TuneList Of(OmdConfig config, DecayRates decay)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(decay);
        var b = config.Balancer;
        return new TuneList(
        [
            new("enabled", config.Balance ? "true" : "false", ""),
            new("interval_ms", Number(config.BalanceInterval.TotalMilliseconds), "ms"),
            new("place_at_start", b.PlaceAtStart ? "true" : "false", ""),
            new("margin", Number(b.Margin), "fraction"),
            new("cost_factor", Number(b.CostFactor), "times"),
            new("link_mb_per_second", Number(b.LinkBytesPerSecond / 1e6), "MB/s"),
            new("move_overhead_ms", Number(b.MoveOverheadSeconds * 1000), "ms"),
            new("min_demand", Number(b.MinDemand), "CPUs"),
            new("cooldown_ms", Number(b.Cooldown.TotalMilliseconds), "ms"),
            new("max_out_per_round", Number(b.MaxOutPerRound), "processes"),
            new("max_in_per_round", Number(b.MaxInPerRound), "processes"),
            new("max_concurrent_moves", Number(b.MaxConcurrentMoves), "processes"),
            new("usher_below_free_percent", Number(b.UsherBelowFreeFraction * 100), "%"),
            new("keep_free_percent", Number(b.KeepFreeFraction * 100), "%"),
            new("usher_lookahead_ms", Number(b.UsherLookahead.TotalMilliseconds), "ms"),
            new("usher_lookahead_max_ms", Number(b.UsherLookaheadMax.TotalMilliseconds), "ms"),
            new("slow_half_life_ms", Number(decay.Slow.TotalMilliseconds), "ms"),
            new("fast_half_life_ms", Number(decay.Fast.TotalMilliseconds), "ms"),
        ]);
    }

    /// <summary>Rounded to what a person types: 0.1 × 100 prints 10, not 10.000000000000002.</summary>
    private static string Number(double value) => Math.Round(value, 6).ToString("0.######", CultureInfo.InvariantCulture);
}
