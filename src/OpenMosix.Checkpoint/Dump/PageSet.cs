namespace OpenMosix.Checkpoint.Dump;

/// <summary>A set of the pages of one region, one bit each (a 2 GiB region takes 64 KiB).</summary>
internal sealed class PageSet(MemoryRegion region)
{
    private const int PageSize = 4096;
    private readonly ulong[] _bits = new ulong[(region.Length / PageSize + 63) / 64];

    public void Add(ulong address, ulong length)
    {
        if (address < region.Start || address + length > region.End)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+{length} is outside 0x{region.Start:x}-0x{region.End:x}");
        var first = (address - region.Start) / PageSize;
        var end = (address + length - region.Start + PageSize - 1) / PageSize;
        for (var page = first; page < end; page++) _bits[page / 64] |= 1UL << (int)(page % 64);
    }

    public bool Contains(ulong address)
    {
        var page = (address - region.Start) / PageSize;
        return (_bits[page / 64] & (1UL << (int)(page % 64))) != 0;
    }

    /// <summary>The set as ascending runs of consecutive pages.</summary>
    public List<(ulong Start, ulong End)> Runs()
    {
        var runs = new List<(ulong Start, ulong End)>();
        var pages = region.Length / PageSize;
        for (var page = 0UL; page < pages; page++)
        {
            if (_bits[page / 64] == 0)
            {
                page |= 63;
                continue;
            }
            if ((_bits[page / 64] & (1UL << (int)(page % 64))) == 0) continue;
            var address = region.Start + page * PageSize;
            if (runs.Count > 0 && runs[^1].End == address) runs[^1] = (runs[^1].Start, address + PageSize);
            else runs.Add((address, address + PageSize));
        }
        return runs;
    }
}
