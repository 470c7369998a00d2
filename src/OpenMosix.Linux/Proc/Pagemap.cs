namespace OpenMosix.Linux.Proc;

/// <summary>/proc/PID/pagemap: one 64-bit entry per virtual page.</summary>
public static class Pagemap
{
    public const ulong Present = 1UL << 63, Swapped = 1UL << 62, FileOrSharedAnon = 1UL << 61, Exclusive = 1UL << 56;
    public const int PageSize = 4096;

    public static SafeFileHandle Open(int pid) =>
        File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>Fills <paramref name="entries"/> with the entries of the pages starting at <paramref name="address"/>.</summary>
    public static void Read(SafeFileHandle pagemap, ulong address, Span<ulong> entries)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(entries);
        var offset = (long)(address / PageSize * 8);
        for (var done = 0; done < bytes.Length;)
        {
            var n = RandomAccess.Read(pagemap, bytes[done..], offset + done);
            if (n == 0) throw Gone($"read at 0x{address:x}");
            done += n;
        }
    }

    private const nuint PagemapScanRequest = 0xc0606610;
    private const ulong ScanWriteProtectMatching = 1, ScanCheckWriteTracking = 2;
    /// <summary>PAGE_IS_* categories of PAGEMAP_SCAN.</summary>
    public const ulong CategoryWritten = 1 << 1, CategoryPresent = 1 << 3, CategorySwapped = 1 << 4, CategoryHuge = 1 << 6;

    /// <summary>
    /// PAGEMAP_SCAN (Linux 6.7) over [start, end): appends the ranges of pages written since they were last
    /// write-protected, and write-protects them again in the same walk, so a write that races with the scan is
    /// reported by the next one. Every page must be under asynchronous write tracking (userfaultfd WP_ASYNC);
    /// false means some part of the range is not (it was unmapped and mapped again, say): nothing can be said of it.
    /// </summary>
    public static bool TakeWritten(SafeFileHandle pagemap, ulong start, ulong end, List<(ulong Start, ulong End)> written) =>
        Scan(pagemap, start, end, written, WrittenQuery(protectAgain: true), out _, Errno.EPERM);

    /// <summary>As <see cref="TakeWritten"/>, but only looks: the pages stay recorded as written.</summary>
    public static bool PeekWritten(SafeFileHandle pagemap, ulong start, ulong end, List<(ulong Start, ulong End)> written) =>
        Scan(pagemap, start, end, written, WrittenQuery(protectAgain: false), out _, Errno.EPERM);

    private const ulong CategoryZeroPfn = 1 << 5;

    /// <summary>
    /// PAGEMAP_SCAN (Linux 6.7) over [start, end): appends the ranges of pages that hold data, present or swapped,
    /// except those mapped to the kernel's shared zero page or huge zero page (read but never written).
    /// <paramref name="anyHuge"/> tells whether some of them are transparent huge pages: where the kernel does not
    /// use its huge zero page (use_zero_page off), a read fault in such memory allocates a real, all-zero huge page,
    /// which only a look at its bytes tells from data. False when this kernel has no PAGEMAP_SCAN: read the entries
    /// instead.
    /// </summary>
    public static bool TryScanTouched(SafeFileHandle pagemap, ulong start, ulong end, List<(ulong Start, ulong End)> touched, out bool anyHuge)
    {
        var found = Scan(pagemap, start, end, touched, new Interop.PmScanArg
        {
            CategoryInverted = CategoryZeroPfn,
            CategoryMask = CategoryZeroPfn,
            CategoryAnyOfMask = CategoryPresent | CategorySwapped,
            ReturnMask = CategoryPresent | CategorySwapped | CategoryHuge,
        }, out var seen, Errno.ENOTTY, Errno.EINVAL);
        anyHuge = (seen & CategoryHuge) != 0;
        return found;
    }

    private static Interop.PmScanArg WrittenQuery(bool protectAgain) => new()
    {
        Flags = (protectAgain ? ScanWriteProtectMatching : 0) | ScanCheckWriteTracking,
        CategoryMask = CategoryWritten,
        ReturnMask = CategoryWritten,
    };

    /// <summary>
    /// The PAGEMAP_SCAN walk shared by every query: batches of regions until the whole range is walked, appended to
    /// <paramref name="ranges"/> with adjacent ones joined; <paramref name="categories"/> is every category seen.
    /// Returns true, or false for one of the <paramref name="expected"/> errnos the caller knows how to read (EPERM: a
    /// page not under write tracking; ENOTTY/EINVAL: no PAGEMAP_SCAN); any other failure throws.
    /// </summary>
    private static unsafe bool Scan(SafeFileHandle pagemap, ulong start, ulong end, List<(ulong Start, ulong End)> ranges,
        Interop.PmScanArg query, out ulong categories, params ReadOnlySpan<Errno> expected)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        categories = 0;
        const int batch = 512;
        var regions = stackalloc Interop.PageRegion[batch];
        while (start < end)
        {
            var scan = query;
            scan.Size = (ulong)sizeof(Interop.PmScanArg);
            scan.Start = start;
            scan.End = end;
            scan.Vector = (ulong)regions;
            scan.VectorLength = batch;
            var n = Interop.Sys.Ioctl(pagemap, PagemapScanRequest, &scan);
            if (n < 0)
            {
                var errno = Errno.Last;
                if (expected.Contains(errno)) return false;
                if (errno == Errno.ESRCH) throw Gone($"PAGEMAP_SCAN of 0x{start:x}-0x{end:x}");
                throw new SyscallException("ioctl(PAGEMAP_SCAN)", errno, $"range 0x{start:x}-0x{end:x}");
            }
            for (var i = 0; i < n; i++)
            {
                categories |= regions[i].Categories;
                if (ranges.Count > 0 && ranges[^1].End == regions[i].Start) ranges[^1] = (ranges[^1].Start, regions[i].End);
                else ranges.Add((regions[i].Start, regions[i].End));
            }
            if (scan.WalkEnd <= start) throw new SyscallException("ioctl(PAGEMAP_SCAN)", Errno.EIO, $"no progress at 0x{start:x}");
            start = scan.WalkEnd;
        }
        return true;
    }

    private static AddressSpaceGoneException Gone(string what) =>
        new($"pagemap {what}: the address space the handle was opened on is gone (the process executed a new program or exited)");

    /// <summary>A page the process has its own copy of: anonymous and present, or swapped out.</summary>
    public static bool IsPrivateData(ulong entry) => (entry & Swapped) != 0 || ((entry & Present) != 0 && (entry & FileOrSharedAnon) == 0);

    /// <summary>A page that was ever touched in an anonymous mapping (present or swapped).</summary>
    public static bool IsPopulated(ulong entry) => (entry & (Present | Swapped)) != 0;
}
