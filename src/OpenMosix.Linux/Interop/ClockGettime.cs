namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1;
    internal const int CLOCK_THREAD_CPUTIME_ID = 3;

    [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGettime(int clock, out TimeSpec time);
}
