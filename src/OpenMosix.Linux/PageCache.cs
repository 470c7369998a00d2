using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Linux;

/// <summary>
/// Keeps large files omd writes once and reads rarely (checkpoints) out of the page cache. The cache is charged to the
/// writer's memory cgroup, and dirty pages cannot be reclaimed until written back: hundreds of MiB of checkpoint
/// written at home, the very node a process was ushered away from for lack of memory, would push its other processes
/// into the OOM killer.
/// </summary>
public static class PageCache
{
    /// <summary>Writes back [offset, offset+count) and waits for it, then drops it from the cache.</summary>
    public static void WriteBackAndDrop(SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        const uint all = Sys.SYNC_FILE_RANGE_WAIT_BEFORE | Sys.SYNC_FILE_RANGE_WRITE | Sys.SYNC_FILE_RANGE_WAIT_AFTER;
        if (Sys.SyncFileRange(file, offset, count, all) < 0) throw SyscallException.FromLastError("sync_file_range");
        Drop(file, offset, count);
    }

    /// <summary>Drops clean cached pages of [offset, offset+count) (count 0: to the end); a hint, never an error.</summary>
    public static void Drop(SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        _ = Sys.PosixFadvise(file, offset, count, Sys.POSIX_FADV_DONTNEED);
    }
}
