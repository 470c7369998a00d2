using System.Runtime.InteropServices;

namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "tgkill", SetLastError = true)]
    internal static partial int Tgkill(int tgid, int tid, int signal);
}
