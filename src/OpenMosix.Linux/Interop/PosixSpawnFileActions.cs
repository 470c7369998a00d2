namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    // posix_spawn_file_actions_t is 80 bytes in glibc; callers allocate more to be safe.
    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_init")]
    internal static unsafe partial Errno PosixSpawnFileActionsInit(void* actions);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static unsafe partial Errno PosixSpawnFileActionsDestroy(void* actions);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static unsafe partial Errno PosixSpawnFileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    internal static unsafe partial Errno PosixSpawnFileActionsAddCloseFrom(void* actions, int from);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial Errno PosixSpawnFileActionsAddChdir(void* actions, string path);
}
