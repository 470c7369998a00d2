namespace OpenMosix.Daemon.Processes;

/// <summary>
/// A process's CPU use in percent of one CPU (as top and ps show it), from the growth of its CPU time between two
/// samples at least <see cref="MinInterval"/> apart; samples closer together are skipped, so a burst of readers
/// cannot make it jump. Zero until two samples exist.
/// </summary>
public sealed class CpuRate
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(500);
    private readonly Lock _gate = new();
    private double _cpuSeconds = double.NaN;
    private TimeSpan _at;

    public double Percent { get; private set; }

    /// <param name="at">when it was read, on a monotonic clock.</param>
    public void Add(double cpuSeconds, TimeSpan at)
    {
        lock (_gate)
        {
            if (!double.IsNaN(_cpuSeconds) && at - _at < MinInterval) return;
            if (!double.IsNaN(_cpuSeconds) && cpuSeconds >= _cpuSeconds)
                Percent = Math.Round(100 * (cpuSeconds - _cpuSeconds) / (at - _at).TotalSeconds, 1);
            (_cpuSeconds, _at) = (cpuSeconds, at);
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _cpuSeconds = double.NaN;
            Percent = 0;
        }
    }
}
