namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <param name="info">a 128-byte siginfo_t buffer.</param>
    [LibraryImport(Libraries.Libc, EntryPoint = "waitid", SetLastError = true)]
    internal static unsafe partial int Waitid(int idType, int id, byte* info, int options);
}
