namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_send_signal", SetLastError = true)]
    internal static partial int PidfdSendSignal(SafeHandle pidfd, int signal, nint info, uint flags);
}
