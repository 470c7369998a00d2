namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>An invalid handle (-1) when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
    internal static unsafe partial SafeFileHandle Accept4(SafeHandle socket, byte* address, uint* length, int flags);
}
