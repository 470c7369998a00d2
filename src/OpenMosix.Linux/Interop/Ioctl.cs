using System.Runtime.InteropServices;

namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const ulong FIONREAD = 0x541B;

    // ioctl is variadic; every request used here takes one pointer argument.
    [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(SafeHandle fd, ulong request, out int value);
}
