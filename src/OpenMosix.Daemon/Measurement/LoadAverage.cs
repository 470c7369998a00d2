namespace OpenMosix.Daemon.Measurement;

/// <summary>
/// An exponentially decaying average of the run queue, sampled at irregular times: each sample pulls the average
/// toward itself by how much time passed relative to the half-life. It may rise faster than it falls: a node that
/// has just been sent work then says so within a sample, so the others stop sending it more on a stale figure, while
/// a moment of idleness is not taken for room. It starts at zero at time zero, like the kernel's, so the bustle of
/// start-up (omd's own calibration) does not read as lasting load. Pure; the caller supplies the clock.
/// </summary>
public sealed class LoadAverage(TimeSpan halfLife, TimeSpan riseHalfLife)
{
    private double _value;
    private TimeSpan _last;

    public LoadAverage(TimeSpan halfLife) : this(halfLife, halfLife)
    {
    }

    public double Value => _value;

    public double Add(double sample, TimeSpan at)
    {
        if (at > _last)
        {
            var half = sample > _value ? riseHalfLife : halfLife;
            var keep = Math.Pow(0.5, (at - _last).TotalSeconds / half.TotalSeconds);
            _value = _value * keep + sample * (1 - keep);
            _last = at;
        }
        return _value;
    }
}
