namespace OpenMosix.Linux;

/// <summary>CPU time consumed by the calling thread: a yardstick that neither other load nor a CPU quota distorts.</summary>
public static class CpuClock
{
    public static TimeSpan CurrentThread() => Clocks.Read(Sys.CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID");
}

/// <summary>CLOCK_MONOTONIC: the clock the kernel stamps its process events with.</summary>
public static class MonotonicClock
{
    public static TimeSpan Now() => Clocks.Read(Sys.CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
}

/// <summary>CLOCK_REALTIME in nanoseconds since the epoch: the clock absolute timerfd deadlines are set on.</summary>
public static class RealtimeClock
{
    public static long NowNanoseconds()
    {
        if (Sys.ClockGettime(Sys.CLOCK_REALTIME, out var time) != 0) throw SyscallException.FromLastError("clock_gettime(CLOCK_REALTIME)");
        return time.Seconds * 1_000_000_000 + time.Nanoseconds;
    }
}

internal static class Clocks
{
    public static TimeSpan Read(int clock, string name)
    {
        if (Sys.ClockGettime(clock, out var time) != 0) throw SyscallException.FromLastError($"clock_gettime({name})");
        return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
    }
}
