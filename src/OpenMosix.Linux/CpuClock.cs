using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

/// <summary>CPU time consumed by the calling thread: a yardstick that neither other load nor a CPU quota distorts.</summary>
public static class CpuClock
{
    public static TimeSpan CurrentThread()
    {
        if (Sys.ClockGettime(Sys.CLOCK_THREAD_CPUTIME_ID, out var time) != 0)
            throw SyscallException.FromLastError("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
    }
}
