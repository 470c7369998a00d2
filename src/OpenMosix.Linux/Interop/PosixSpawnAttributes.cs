using System.Runtime.InteropServices;

namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const short POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08,
        POSIX_SPAWN_SETSID = 0x80;

    // posix_spawnattr_t is 336 bytes in glibc; callers allocate more to be safe.
    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_init")]
    internal static unsafe partial int PosixSpawnAttrInit(void* attributes);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_destroy")]
    internal static unsafe partial int PosixSpawnAttrDestroy(void* attributes);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setflags")]
    internal static unsafe partial int PosixSpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static unsafe partial int PosixSpawnAttrSetSigMask(void* attributes, byte* sigset);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static unsafe partial int PosixSpawnAttrSetSigDefault(void* attributes, byte* sigset);

    [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setpgroup")]
    internal static unsafe partial int PosixSpawnAttrSetPgroup(void* attributes, int pgroup);
}
