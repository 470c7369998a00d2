using System.Diagnostics;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Keeps what one move sends at or under a rate (migration.bandwidth_limit_mib_s, as QEMU's max-bandwidth): an
/// administrator's way to leave the link to everything else, and a test's way to make a move last a known time on any
/// machine. Kept as the time at which the bytes reserved so far have gone at the limit: a send of N bytes waits until
/// then and moves it on by N / rate. Idle time is credited for at most <see cref="Burst"/>, so that the lateness of the
/// waits themselves (a loaded machine's wake-ups) does not slow a move under its limit, while a long pause does not
/// buy a burst above it. Pure: the clock is given, and the caller waits (the image stream sleeps on its blocking
/// thread; the post-copy push waits for the next fault instead).
/// </summary>
public sealed class BandwidthPacer
{
    /// <summary>How much idle time may be made up for at once.</summary>
    public static readonly TimeSpan Burst = TimeSpan.FromMilliseconds(50);

    private readonly double _bytesPerSecond;
    private readonly Func<TimeSpan> _clock;
    private readonly Lock _lock = new();
    private TimeSpan _freeAt;

    /// <param name="bytesPerSecond">The limit, above zero.</param>
    /// <param name="clock">A monotonic clock; null: <see cref="Stopwatch"/>'s.</param>
    public BandwidthPacer(double bytesPerSecond, Func<TimeSpan>? clock = null)
    {
        if (!(bytesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), "a bandwidth limit is above zero");
        _bytesPerSecond = bytesPerSecond;
        _clock = clock ?? (() => Stopwatch.GetElapsedTime(0));
        _freeAt = _clock() - Burst;
    }

    /// <summary>A pacer for <paramref name="mibPerSecond"/> MiB/s; null for 0, which is no limit.</summary>
    public static BandwidthPacer? ForLimit(int mibPerSecond) => mibPerSecond > 0 ? new BandwidthPacer(mibPerSecond * 1048576.0) : null;

    public double BytesPerSecond => _bytesPerSecond;

    /// <summary>Counts <paramref name="bytes"/> as sent and says how long to wait before sending them (zero: at once).</summary>
    public TimeSpan Reserve(long bytes)
    {
        lock (_lock)
        {
            var now = _clock();
            var start = Max(_freeAt, now - Burst);
            _freeAt = start + TimeSpan.FromSeconds(bytes / _bytesPerSecond);
            return start > now ? start - now : TimeSpan.Zero;
        }
    }

    /// <summary>Counts <paramref name="bytes"/> as sent when they may go now (true); otherwise counts nothing and says
    /// in <paramref name="wait"/> how long until they may.</summary>
    public bool TryReserve(long bytes, out TimeSpan wait)
    {
        lock (_lock)
        {
            var now = _clock();
            if (_freeAt > now)
            {
                wait = _freeAt - now;
                return false;
            }
            _freeAt = Max(_freeAt, now - Burst) + TimeSpan.FromSeconds(bytes / _bytesPerSecond);
            wait = TimeSpan.Zero;
            return true;
        }
    }

    /// <summary>Waits (sleeping this thread) until <paramref name="bytes"/> may go: for a blocking sender.</summary>
    public void Pace(long bytes)
    {
        if (Reserve(bytes) is { Ticks: > 0 } wait) Thread.Sleep(wait);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
