namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>Fills fds[0] (read end) and fds[1] (write end); <see cref="Descriptors.CreatePipe"/> wraps them.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pipe2", SetLastError = true)]
    internal static unsafe partial int Pipe2(int* fds, OpenFlags flags);
}
