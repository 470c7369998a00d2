namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>splice(2) without offsets (both ends pipes or streams): moves page references, copies no byte.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "splice", SetLastError = true)]
    internal static partial nint Splice(SafeHandle fdIn, nint offIn, SafeHandle fdOut, nint offOut, nuint length, uint flags);
}
