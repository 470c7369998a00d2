using System.Runtime.InteropServices;

namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fstat", SetLastError = true)]
    internal static partial int Fstat(SafeHandle fd, out StatBuffer buffer);
}
