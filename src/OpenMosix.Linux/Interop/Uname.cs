namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <param name="buffer">struct utsname: six 65-byte fields.</param>
    [LibraryImport(Libraries.Libc, EntryPoint = "uname", SetLastError = true)]
    internal static unsafe partial int Uname(byte* buffer);
}
