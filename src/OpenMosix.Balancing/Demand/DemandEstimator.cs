namespace OpenMosix.Balancing.Demand;

/// <summary>How fast a process's past CPU use is forgotten (mosrun -s / -f / -n, mosctl setdecay).</summary>
public enum DecayMode
{
    /// <summary>Slow decay (the default): a process's demand follows minutes of history.</summary>
    Slow,
    /// <summary>Fast decay: a few seconds of history; for processes that change phase often.</summary>
    Fast,
    /// <summary>No decay: the average over its whole life.</summary>
    None,
}

/// <summary>What the user said the process is (mosrun -c / -i): trusted over the measurement.</summary>
public enum JobHint
{
    Measured,
    /// <summary>cpujob: assume it uses a whole CPU.</summary>
    Cpu,
    /// <summary>iojob: assume it uses none (never moved for load).</summary>
    Io,
}

/// <summary>
/// A process's CPU demand (0..1 of a CPU) from samples of its CPU time: an exponentially decaying average with the
/// half-life of the decay mode, or the lifetime average without decay. Pure: fed by omd (from /proc) or the simulator.
/// </summary>
public sealed class DemandEstimator
{
    private readonly Func<DecayRates> _rates;
    private double _average;
    private double _cpuTotal, _wallTotal;
    private bool _sampled;

    /// <summary>An estimator with fixed half-lives (<see cref="DecayRates.Default"/> unless given).</summary>
    public DemandEstimator(DecayMode decay = DecayMode.Slow, JobHint hint = JobHint.Measured, DecayRates? rates = null)
        : this(decay, hint, () => rates ?? DecayRates.Default)
    {
    }

    /// <summary>
    /// An estimator that asks <paramref name="rates"/> for the half-lives at every sample, so that a node-wide change
    /// (mosctl setdecay) reaches processes already measured from their next sample on, without restarting them.
    /// </summary>
    public DemandEstimator(DecayMode decay, JobHint hint, Func<DecayRates> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        _rates = rates;
        Decay = decay;
        Hint = hint;
    }

    public DecayMode Decay { get; set; }
    public JobHint Hint { get; set; }

    /// <summary>Adds a sample: <paramref name="cpu"/> of CPU time used over <paramref name="wall"/> of wall time.</summary>
    public void Add(TimeSpan cpu, TimeSpan wall)
    {
        if (wall <= TimeSpan.Zero) return;
        var use = Math.Clamp(cpu / wall, 0, 1);
        _cpuTotal += cpu.TotalSeconds;
        _wallTotal += wall.TotalSeconds;
        if (!_sampled)
        {
            _average = use;
            _sampled = true;
            return;
        }
        var keep = Math.Pow(0.5, wall / _rates().HalfLife(Decay));
        _average = _average * keep + use * (1 - keep);
    }

    public double Demand => Hint switch
    {
        JobHint.Cpu => 1.0,
        JobHint.Io => 0.0,
        _ when Decay == DecayMode.None => _wallTotal > 0 ? Math.Clamp(_cpuTotal / _wallTotal, 0, 1) : 0,
        _ => _average,
    };
}
