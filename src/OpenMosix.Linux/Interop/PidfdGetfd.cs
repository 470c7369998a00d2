namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>An invalid handle (-1) when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_getfd", SetLastError = true)]
    internal static partial SafeFileHandle PidfdGetfd(SafeHandle pidfd, int targetFd, uint flags);
}
