namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn")]
    internal static unsafe partial Errno PosixSpawn(out int pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);
}
