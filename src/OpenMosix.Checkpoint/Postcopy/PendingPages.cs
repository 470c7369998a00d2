namespace OpenMosix.Checkpoint.Postcopy;

/// <summary>
/// The pages of a post-copied process that the page source still has to deliver, as sorted disjoint ranges
/// [Start, End). A page leaves when it is copied, unmapped or discarded; a move of the memory moves its pending pages.
/// A missing page that is not pending was never in the image (or was discarded since), so it is a zero page.
/// Each range also knows where its pages were when the process was frozen (Origin: the address of Start then),
/// which is how the page source knows them.
/// </summary>
internal sealed class PendingPages
{
    private const ulong PageSize = 4096;
    private readonly List<(ulong Start, ulong End, ulong Origin)> _ranges;

    public PendingPages() => _ranges = [];

    private PendingPages(List<(ulong Start, ulong End, ulong Origin)> ranges) => _ranges = ranges;

    public bool IsEmpty => _ranges.Count == 0;

    public ulong Bytes => _ranges.Aggregate(0UL, (sum, r) => sum + r.End - r.Start);

    /// <summary>Any pending page (for asking whether the address space still exists); 0 when none is.</summary>
    public ulong AnyPage => _ranges.Count > 0 ? _ranges[0].Start : 0;

    /// <summary>A fork's child starts with the same pages missing as its parent had.</summary>
    public PendingPages Clone() => new([.. _ranges]);

    /// <summary>Pages [start, start+length) are pending, frozen at the same addresses (a restore's image).</summary>
    public void Add(ulong start, ulong length) => Add(start, length, start);

    /// <summary>Adds [start, start+length), whose pages were at <paramref name="origin"/> when frozen; it must not
    /// overlap what is pending. It joins a neighbour that continues it both here and at its origin.</summary>
    private void Add(ulong start, ulong length, ulong origin)
    {
        if (length == 0) return;
        var end = start + length;
        var i = FirstEndingAfter(start);
        if (i > 0 && _ranges[i - 1].End == start && _ranges[i - 1].Origin + (start - _ranges[i - 1].Start) == origin)
        {
            i--;
            origin = _ranges[i].Origin;
            start = _ranges[i].Start;
            _ranges.RemoveAt(i);
        }
        if (i < _ranges.Count && _ranges[i].Start == end && origin + (end - start) == _ranges[i].Origin)
        {
            end = _ranges[i].End;
            _ranges.RemoveAt(i);
        }
        _ranges.Insert(i, (start, end, origin));
    }

    public void Remove(ulong start, ulong length)
    {
        if (length == 0) return;
        var end = start + length;
        var i = FirstEndingAfter(start);
        var j = i;
        var kept = new List<(ulong, ulong, ulong)>(2);
        while (j < _ranges.Count && _ranges[j].Start < end)
        {
            var r = _ranges[j];
            if (r.Start < start) kept.Add((r.Start, start, r.Origin));
            if (r.End > end) kept.Add((end, r.End, r.Origin + (end - r.Start)));
            j++;
        }
        _ranges.RemoveRange(i, j - i);
        _ranges.InsertRange(i, kept);
    }

    /// <summary>The pending pages from <paramref name="page"/> on, at most <paramref name="most"/> bytes and no further
    /// than its range goes; length 0 when <paramref name="page"/> is not pending.</summary>
    public ulong RunAt(ulong page, ulong most)
    {
        var i = FirstEndingAfter(page);
        if (i == _ranges.Count || _ranges[i].Start > page) return 0;
        return Math.Min(_ranges[i].End - page, most);
    }

    /// <summary>Where pending <paramref name="page"/> was when the process was frozen.</summary>
    public ulong OriginOf(ulong page)
    {
        var r = _ranges[FirstEndingAfter(page)];
        return r.Origin + (page - r.Start);
    }

    /// <summary>The first pending run at or after <paramref name="cursor"/>, else from the lowest address (a move may
    /// have put pages behind it): at most <paramref name="most"/> bytes; (0, 0) when nothing is pending.</summary>
    public (ulong Start, ulong Length) NextFrom(ulong cursor, ulong most)
    {
        if (_ranges.Count == 0) return (0, 0);
        var i = FirstEndingAfter(cursor);
        if (i == _ranges.Count) { i = 0; cursor = 0; }
        var start = Math.Max(_ranges[i].Start, cursor & ~(PageSize - 1));
        return (start, Math.Min(_ranges[i].End - start, most));
    }

    /// <summary>[from, from+length) moved to [to, to+length) (mremap): its pending pages move with it.</summary>
    public void Move(ulong from, ulong to, ulong length)
    {
        var moved = new List<(ulong Start, ulong End, ulong Origin)>();
        var end = from + length;
        for (var i = FirstEndingAfter(from); i < _ranges.Count && _ranges[i].Start < end; i++)
        {
            var s = Math.Max(_ranges[i].Start, from);
            moved.Add((s, Math.Min(_ranges[i].End, end), _ranges[i].Origin + (s - _ranges[i].Start)));
        }
        Remove(from, length);
        // What was mapped at the destination is gone (the kernel unmaps it first); nothing of it stays pending.
        Remove(to, length);
        foreach (var (s, e, origin) in moved) Add(s - from + to, e - s, origin);
    }

    private int FirstEndingAfter(ulong address)
    {
        int low = 0, high = _ranges.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (_ranges[mid].End <= address) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}
