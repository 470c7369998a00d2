using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// Folds a checkpoint's final image into the stored pre-copy round, so that one consistent image exists at any time:
/// the round keeps its layout, tracks only the regions the final image says were kept (a region unmapped, moved or
/// resized since travels whole in every final image from then on), and holds for each page the final image's
/// contents where it carries that page (written since the last checkpoint, or discarded: zeros), the old round's
/// otherwise. Restoring the merged round and then the same final image rebuilds the process as it was at the freeze.
/// </summary>
public static class CheckpointMerge
{
    private const int PageSize = (int)ImageFormat.PageSize;
    private const int RunBytes = 1 << 20;

    public static void Merge(Stream baseRound, Stream final, Stream output)
    {
        // Home merges on the node a process may have been ushered away from for lack of memory: the pages the final
        // image carries (everything written since the last checkpoint, often tens of MiB) are streamed from its file
        // alongside the round, both in ascending order (as every image's pages are), never gathered in memory.
        using var finalImage = new ImageReader(final, leaveOpen: true);
        var kept = finalImage.ReadMetadata().Precopy?.Kept.OrderBy(r => r.Start).ToList()
            ?? throw new CorruptCheckpointException("the checkpoint's final image does not say which regions it kept");
        using var changed = KeptPages(finalImage, kept).GetEnumerator();
        var pending = changed.MoveNext();
        using var round = new ImageReader(baseRound, leaveOpen: true);
        var layout = round.ReadLayout();
        foreach (var range in kept)
            if (!layout.Tracked.Contains(range))
                throw new CorruptCheckpointException($"the checkpoint kept 0x{range.Start:x}-0x{range.End:x}, which the stored one never held");
        using var writer = new ImageWriter(output, new ImageWriterOptions(LeaveOpen: true));
        writer.WriteLayout(layout with { Tracked = kept });
        var runs = new RunBuilder(writer);
        while (round.ReadNextPageRun() is { } run)
        {
            for (var offset = 0; offset < run.Data.Length; offset += PageSize)
            {
                var page = run.Address + (ulong)offset;
                if (!Inside(kept, page)) continue;
                while (pending && changed.Current.Address < page) pending = AddAndMove(runs, changed);
                if (pending && changed.Current.Address == page) pending = AddAndMove(runs, changed);
                else runs.Add(page, run.Data.Span.Slice(offset, PageSize));
            }
        }
        while (pending) pending = AddAndMove(runs, changed);
        runs.Flush();
        writer.Complete();
    }

    private static bool AddAndMove(RunBuilder runs, IEnumerator<(ulong Address, ReadOnlyMemory<byte> Data)> pages)
    {
        runs.Add(pages.Current.Address, pages.Current.Data.Span);
        return pages.MoveNext();
    }

    /// <summary>The final image's pages inside the kept regions, one by one in ascending order; each valid only until
    /// the next is asked for (the reader reuses its buffers).</summary>
    private static IEnumerable<(ulong Address, ReadOnlyMemory<byte> Data)> KeptPages(ImageReader reader, List<AddressRange> kept)
    {
        while (reader.ReadNextPageRun() is { } run)
        {
            for (var offset = 0; offset < run.Data.Length; offset += PageSize)
            {
                var page = run.Address + (ulong)offset;
                if (Inside(kept, page)) yield return (page, run.Data.Slice(offset, PageSize));
            }
        }
    }

    private static bool Inside(List<AddressRange> sorted, ulong address)
    {
        int low = 0, high = sorted.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (address < sorted[middle].Start) high = middle - 1;
            else if (address >= sorted[middle].End) low = middle + 1;
            else return true;
        }
        return false;
    }

    /// <summary>Pages in ascending order gathered into runs of adjacent pages, up to 1 MiB each.</summary>
    private sealed class RunBuilder(ImageWriter writer)
    {
        private readonly byte[] _buffer = new byte[RunBytes];
        private ulong _start;
        private int _length;

        public void Add(ulong address, ReadOnlySpan<byte> page)
        {
            if (_length > 0 && (address != _start + (ulong)_length || _length == RunBytes)) Flush();
            if (_length == 0) _start = address;
            page.CopyTo(_buffer.AsSpan(_length));
            _length += PageSize;
        }

        public void Flush()
        {
            if (_length > 0) writer.WritePages(_start, _buffer.AsSpan(0, _length));
            _length = 0;
        }
    }
}
