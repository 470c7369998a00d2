namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>An invalid handle when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_open", SetLastError = true)]
    internal static partial PidFd PidfdOpen(int pid, uint flags);
}
