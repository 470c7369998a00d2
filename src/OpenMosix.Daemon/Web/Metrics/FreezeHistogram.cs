namespace OpenMosix.Daemon.Web.Metrics;

/// <summary>
/// Freeze times in fixed buckets from 5 ms (a small process with pre-copy) to 30 s (a large one without): each
/// observation is two atomic increments and an atomic add, so a migration never waits for a scrape.
/// </summary>
public sealed class FreezeHistogram
{
    /// <summary>Upper bounds, in seconds.</summary>
    public static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly long[] _counts = new long[Bounds.Length + 1];
    private long _sumTicks;

    public void Observe(TimeSpan frozen)
    {
        var seconds = frozen.TotalSeconds;
        var bucket = 0;
        while (bucket < Bounds.Length && seconds > Bounds[bucket]) bucket++;
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Add(ref _sumTicks, frozen.Ticks);
    }

    /// <summary>The counts per bucket (not cumulative; the last is above every bound) and the sum, in seconds.</summary>
    public (long[] Counts, double SumSeconds) Snapshot()
    {
        var counts = new long[_counts.Length];
        for (var i = 0; i < counts.Length; i++) counts[i] = Interlocked.Read(ref _counts[i]);
        return (counts, TimeSpan.FromTicks(Interlocked.Read(ref _sumTicks)).TotalSeconds);
    }
}
