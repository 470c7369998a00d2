namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const uint SPLICE_F_NONBLOCK = 2;

    [LibraryImport(Libraries.Libc, EntryPoint = "tee", SetLastError = true)]
    internal static partial nint Tee(SafeHandle fdIn, SafeHandle fdOut, nuint length, uint flags);
}
