namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int CLONE_NEWNET = 0x40000000;

    /// <summary>Moves the calling thread (only) into the namespace <paramref name="fd"/> refers to.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
    internal static partial int Setns(SafeHandle fd, int type);
}
