namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const short POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08,
        POSIX_SPAWN_SETSID = 0x80;

    // posix_spawnattr_t is 336 bytes in glibc; callers allocate more to be safe.
    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_init")]
    internal static unsafe partial Errno PosixSpawnAttrInit(void* attributes);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_destroy")]
    internal static unsafe partial Errno PosixSpawnAttrDestroy(void* attributes);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setflags")]
    internal static unsafe partial Errno PosixSpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static unsafe partial Errno PosixSpawnAttrSetSigMask(void* attributes, byte* sigset);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static unsafe partial Errno PosixSpawnAttrSetSigDefault(void* attributes, byte* sigset);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setpgroup")]
    internal static unsafe partial Errno PosixSpawnAttrSetPgroup(void* attributes, int pgroup);
}
