using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

/// <summary>CLOCK_MONOTONIC: the clock the kernel stamps its process events with.</summary>
public static class MonotonicClock
{
    public static TimeSpan Now()
    {
        if (Sys.ClockGettime(Sys.CLOCK_MONOTONIC, out var time) != 0)
            throw SyscallException.FromLastError("clock_gettime(CLOCK_MONOTONIC)");
        return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
    }
}
