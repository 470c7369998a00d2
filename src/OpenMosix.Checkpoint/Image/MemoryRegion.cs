namespace OpenMosix.Checkpoint.Image;

/// <summary>One line of /proc/PID/maps and how to rebuild it.</summary>
public sealed class MemoryRegion
{
    public required ulong Start { get; init; }
    public required ulong End { get; init; }
    public required MemoryProtection Protection { get; init; }
    public required RegionKind Kind { get; init; }
    public bool Shared { get; init; }
    /// <summary>The name column of /proc/PID/maps: a path, "[heap]", "[stack]", "[vdso]", or empty.</summary>
    public string Name { get; init; } = "";
    /// <summary>For file-backed mappings: offset in the file, device and inode at dump time.</summary>
    public ulong FileOffset { get; init; }
    public ulong Device { get; init; }
    public ulong Inode { get; init; }
    /// <summary>For file-backed mappings: the file's size and mtime (ns) at dump time, checked before remapping it (for
    /// <see cref="RegionKind.SharedFile"/> the size only, the least the file is grown to).</summary>
    public long FileSize { get; init; }
    public long FileModifiedNanoseconds { get; init; }
    /// <summary>
    /// For file-backed mappings: every page travelled because the file could not be trusted (deleted or replaced);
    /// the region is then rebuilt as anonymous memory. When false, only pages the process changed travel.
    /// </summary>
    public bool AllPagesStored { get; init; }

    public ulong Length => End - Start;
}

[Flags]
public enum MemoryProtection
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
}

public enum RegionKind
{
    /// <summary>Private anonymous memory: contents travel as pages.</summary>
    Anonymous,
    /// <summary>The brk heap: rebuilt with brk() so that the program can keep growing and trimming it.</summary>
    Heap,
    /// <summary>The main thread's stack: mapped MAP_GROWSDOWN.</summary>
    Stack,
    /// <summary>Private file mapping: touched pages travel, the rest is re-read from the file on restore.</summary>
    FilePrivate,
    /// <summary>Kernel-provided [vdso], [vvar], [vvar_vclock]: moved with mremap, never copied.</summary>
    Vdso,
    Vvar,
    VvarVclock,
    /// <summary>[vsyscall]: fixed by the kernel, nothing to do.</summary>
    Vsyscall,
    /// <summary>PROT_NONE reservations and guard pages: mapped, no contents.</summary>
    Reserved,
    /// <summary>
    /// A shared mapping of a memfd the process holds a descriptor of (<see cref="MemoryRegion.Device"/> and
    /// <see cref="MemoryRegion.Inode"/> name it): no pages travel, the memfd's contents do; on restore it is mapped
    /// MAP_SHARED from the rebuilt memfd, so two mappings of one memfd share their memory again.
    /// </summary>
    SharedMemfd,
    /// <summary>
    /// A writable shared mapping of a regular file no other process used (the JVM's hsperfdata): every page of the
    /// file's part the mapping covers travels (zero pages left out), with the file's size in
    /// <see cref="MemoryRegion.FileSize"/> and the mapping's offset in <see cref="MemoryRegion.FileOffset"/>. On restore
    /// the file is opened or created at <see cref="MemoryRegion.Name"/>, grown to that size, its mapped part cleared,
    /// mapped MAP_SHARED again and filled, so the file holds what the process saw.
    /// </summary>
    SharedFile,
    /// <summary>Anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS) that only this process maps: its pages travel, and
    /// it is mapped shared and anonymous again, so that the process's threads (and children it forks later) share it.</summary>
    SharedAnonymous,
}

/// <summary>A run of consecutive pages of memory contents. Zero pages are never stored.</summary>
public readonly record struct PageRun(ulong Address, ReadOnlyMemory<byte> Data);
