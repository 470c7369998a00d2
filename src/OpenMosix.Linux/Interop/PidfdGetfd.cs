using System.Runtime.InteropServices;

namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_getfd", SetLastError = true)]
    internal static partial int PidfdGetfd(SafeHandle pidfd, int targetFd, uint flags);
}
