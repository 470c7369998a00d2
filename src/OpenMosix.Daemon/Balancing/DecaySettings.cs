using OpenMosix.Balancing.Demand;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// This node's decay half-lives while omd runs: omd.toml's at start, mosctl setdecay's after (kept in memory only).
/// Every process's estimator asks for them at each sample, so a change applies from the next sample on.
/// </summary>
public sealed class DecaySettings(DecayRates initial)
{
    private DecayRates _rates = initial ?? throw new ArgumentNullException(nameof(initial));

    public DecayRates Rates => Volatile.Read(ref _rates);

    /// <summary>
    /// The decay of a process started without mosrun -s / -f / -n: fast. omd judges a job from the moment it starts,
    /// and a short job must be seen busy within seconds to be moved while moving still pays; slow decay would carry
    /// its first (often idle: loading, reading input) seconds for a minute.
    /// </summary>
    public static DecayMode DefaultMode => DecayMode.Fast;

    /// <summary>Replaces the half-lives; throws <see cref="ArgumentException"/> with the reason when they cannot be used.</summary>
    public DecayRates Set(DecayRates rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        if (rates.Problem() is { } problem) throw new ArgumentException(problem, nameof(rates));
        Volatile.Write(ref _rates, rates);
        return rates;
    }
}
