namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const short POLLIN = 1;

    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);
}
