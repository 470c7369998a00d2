using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Postcopy;

/// <summary>
/// Which memory a post-copy leaves behind: private anonymous memory with contents (heap, stacks, anonymous mappings,
/// a private file mapping stored whole), the memory a restore fills with UFFDIO_COPY and can therefore serve on fault;
/// and of it only what the process may read: a PROT_NONE reservation (a malloc arena's, a guard) travels as before,
/// with whatever few pages it has, instead of being pushed whole, page by page of nothing.
/// One rule for both ends: what the dump leaves out (<see cref="DumpOptions.LeaveLazyMemory"/>) is exactly what the
/// restore serves (<see cref="RestoreOptions.LazyWholeRegions"/>); a page left out and not served would read as zeros.
/// </summary>
public static class LazyMemory
{
    public static bool IsLazy(MemoryRegion region) =>
        RegionBuilder.HasContents(region) && !ProcessBuilder.MappedFromFile(region)
        && region.Kind is not (RegionKind.SharedFile or RegionKind.SharedAnonymous)
        && region.Protection.HasFlag(MemoryProtection.Read);
}
