using OpenMosix.Balancing.Model;

namespace OpenMosix.Balancing.Demand;

/// <summary>
/// A node's recent speed of moving processes out, in seconds per byte of image, from the moves it timed: the time
/// ushering must look ahead to depends on it (a move under load took 6.7 s where the link alone needs 2).
/// <para>A sample is the move's time less the fixed overhead, over its bytes; moves smaller than
/// <see cref="MinSampleBytes"/> say more about the overhead than about the speed and are left out. The estimate rises
/// to a slower sample at once and falls to a faster one gradually (a third of the way per move): a move that ends
/// later than foreseen can cost a process to the OOM killer, one that ends earlier only means ushering began early.
/// It is never faster than the configured link (<see cref="BalancerOptions.LinkBytesPerSecond"/>) nor slower than
/// <see cref="MaxSecondsPerMiB"/>. Not thread-safe: the caller serialises it.</para>
/// </summary>
public sealed class MoveSpeed(BalancerOptions options)
{
    /// <summary>Moves of less than 16 MiB are not samples: their time is mostly the fixed overhead.</summary>
    public const double MinSampleBytes = 16 * 1048576.0;

    /// <summary>The slowest speed believed, 4 MiB/s: a single move stuck for a minute (a node swapping, a peer gone)
    /// must not make every later process look as if it could never leave in time.</summary>
    public const double MaxSecondsPerMiB = 0.25;

    private const double Fall = 1.0 / 3;
    private double? _measured;

    /// <summary>How many moves it has counted.</summary>
    public int Samples { get; private set; }

    /// <summary>Counts a move of <paramref name="bytes"/> that took <paramref name="took"/>; false when it is too
    /// small to say anything about the speed.</summary>
    public bool Add(double bytes, TimeSpan took)
    {
        if (bytes < MinSampleBytes || took <= TimeSpan.Zero) return false;
        var sample = Math.Max(0, took.TotalSeconds - options.MoveOverheadSeconds) / bytes;
        _measured = _measured is not { } was || sample >= was ? sample : was + (sample - was) * Fall;
        Samples++;
        return true;
    }

    /// <summary>Seconds per byte: measured, within the link speed and <see cref="MaxSecondsPerMiB"/>; the link's
    /// before any move was counted.</summary>
    public double SecondsPerByte
    {
        get
        {
            var link = 1 / options.LinkBytesPerSecond;
            return Math.Clamp(_measured ?? link, link, Math.Max(link, MaxSecondsPerMiB / 1048576.0));
        }
    }

    /// <summary>
    /// The move times for a round, given the moves already decided in the order they run: each one's bytes, how long
    /// it has run (null: still waiting for its turn), and whether it is a sample (<see cref="Add"/>'s kind of move: a
    /// frozen copy of the whole image). Such a move under way has already taken its elapsed time, so the speed is taken
    /// no faster than the slowest of them shows so far: the first moves out of a node under load count before they end. What each still needs (<see cref="MoveTimes.Pending"/>) follows from that speed.
    /// </summary>
    public MoveTimes Times(IReadOnlyList<(double Bytes, TimeSpan? Elapsed, bool Sample)> decided)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var speed = SecondsPerByte;
        foreach (var (bytes, elapsed, sample) in decided)
            if (sample && elapsed is { } ran && bytes >= MinSampleBytes)
                speed = Math.Max(speed, Math.Max(0, ran.TotalSeconds - options.MoveOverheadSeconds) / bytes);
        speed = Math.Min(speed, Math.Max(1 / options.LinkBytesPerSecond, MaxSecondsPerMiB / 1048576.0));
        var times = new MoveTimes(speed);
        return times with
        {
            Pending = [.. decided.Select(d => Math.Max(0, times.MoveSeconds(d.Bytes, options) - (d.Elapsed?.TotalSeconds ?? 0)))],
        };
    }
}
