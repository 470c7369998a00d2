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

    /// <summary>Runs closer than this are left missing as one: the target drops each run with a call injected into
    /// the frozen copy, and a page fetched again (the same bytes as home's) costs less than a call more per gap.</summary>
    public const ulong JoinGap = 64 << 10;

    /// <summary>
    /// Post-copy after pre-copy rounds: the changed pages of the kept regions (<paramref name="changed"/>, by region
    /// start, as the final plan says) that are lazy, left out of the final image and fetched by the copy instead;
    /// runs closer than <see cref="JoinGap"/> joined (the pages between are then fetched too).
    /// </summary>
    public static List<AddressRange> LeftMissing(IReadOnlyDictionary<ulong, List<(ulong Start, ulong End)>> changed, IEnumerable<MemoryRegion> regions)
    {
        var missing = new List<AddressRange>();
        foreach (var region in regions.Where(r => changed.ContainsKey(r.Start) && IsLazy(r)))
        {
            var at = missing.Count;
            foreach (var (start, end) in changed[region.Start].OrderBy(r => r.Start))
            {
                if (start >= end) continue;
                if (missing.Count > at && start - missing[^1].End <= JoinGap && start >= missing[^1].End)
                    missing[^1] = missing[^1] with { End = Math.Max(missing[^1].End, end) };
                else missing.Add(new AddressRange(start, end));
            }
        }
        return missing;
    }
}
