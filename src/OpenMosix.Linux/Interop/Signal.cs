namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal static readonly nint SIG_DFL = 0, SIG_ERR = -1;

    [LibraryImport(Libraries.Libc, EntryPoint = "signal", SetLastError = true)]
    internal static partial nint Signal(int signal, nint handler);
}
