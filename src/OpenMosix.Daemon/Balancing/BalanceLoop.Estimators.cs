using OpenMosix.Balancing.Demand;

namespace OpenMosix.Daemon.Balancing;

/// <summary>How omd's balancer measures each process: the decay and hint it was started with, the node's half-lives.</summary>
public sealed partial class BalanceLoop
{
    /// <summary>This node's decay half-lives (omd.toml, mosctl setdecay); read by every estimator at each sample.</summary>
    public DecaySettings Decay { get; init; } = new(DecayRates.Default);

    /// <summary>A new estimator for a process: its own decay mode and hint (om run --slow-decay, --cpujob...), else the
    /// node's default mode; the half-lives are asked for at each sample, so mosctl setdecay reaches it too.</summary>
    private DemandEstimator NewEstimator(int pid)
    {
        var process = registry.Find(pid);
        var decay = Decay;
        return new DemandEstimator(process?.Decay ?? DecaySettings.DefaultMode, process?.Hint ?? JobHint.Measured, () => decay.Rates);
    }
}
