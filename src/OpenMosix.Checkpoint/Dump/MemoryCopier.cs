using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Copies the touched pages of a frozen process to a sink: pagemap picks the pages (so the image is about RSS,
/// not VSZ), process_vm_readv gathers them into reused chunk buffers with up to 1024 iovecs per call, and the runs go
/// to the sink straight from the buffer. In anonymous memory PAGEMAP_SCAN leaves out pages mapped to the shared
/// zero page (read, never written), so small pages are not scanned for zeros; transparent huge pages are, since a
/// kernel that does not use its huge zero page allocates them zero-filled on a read fault. Where PAGEMAP_SCAN is
/// missing, the pagemap entries are read and all-zero pages are dropped by looking at them. A writable shared file
/// mapping is read whole up to the file's end (zero pages dropped), as the file may not exist where it is restored.
/// </summary>
internal sealed class MemoryCopier : IDisposable
{
    private const int PageSize = Pagemap.PageSize;
    // 4 MiB: the last chunk's hashing and writing, which nothing overlaps, stays short.
    private const int ChunkPages = 1024;

    private readonly int _pid;
    private readonly ChunkBuffers _buffers = ChunkBuffers.Rent();
    private readonly ChunkPipeline _pipeline = new(ChunkBuffers.Slots);
    private readonly ulong[] _entries = new ulong[ChunkPages];
    private readonly IoVec[] _local = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly IoVec[] _remote = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly SafeFileHandle _pagemap;
    private readonly List<(ulong Start, ulong End)> _touched = [];
    private bool _noScan;
    private SafeFileHandle? _mem;
    private Memory<byte> _buffer;
    private (ulong Address, int Offset, int Length)[] _runs = [];
    private int _current;
    /// <summary>Whether the current slot is taken (free of the sink) and not yet handed over.</summary>
    private bool _holding;
    private long _selectTicks, _readTicks, _waitTicks;
    private int _chunks;

    public MemoryCopier(int pid)
    {
        _pid = pid;
        _pagemap = Pagemap.Open(pid);
    }

    public ulong StoredBytes { get; private set; }
    public ulong ScannedBytes { get; private set; }

    /// <summary>Where the gathering thread spent its time, for the dump's phase log: picking pages (PAGEMAP_SCAN or
    /// pagemap), copying them (process_vm_readv), and waiting for the sink to take the previous chunk.</summary>
    public (TimeSpan Select, TimeSpan Read, TimeSpan WaitForSink, int Chunks) Breakdown =>
        (Stopwatch.GetElapsedTime(0, _selectTicks), Stopwatch.GetElapsedTime(0, _readTicks), Stopwatch.GetElapsedTime(0, _waitTicks), _chunks);

    /// <summary>
    /// Copies a region's touched pages to the sink. Gathering the next chunks overlaps with hashing and writing the
    /// earlier ones (the process is frozen, so the second core is free); the sink still sees runs one at a time, in order.
    /// Call <see cref="Finish"/> after the last region.
    /// </summary>
    public void Copy(MemoryRegion region, IImageSink sink, IProgress<ulong>? progress, Action<ulong, int>? stored = null)
    {
        var end = RegionBuilder.ContentsEnd(region);
        for (var chunk = region.Start; chunk < end; chunk += (ulong)ChunkPages * PageSize)
        {
            var t0 = Stopwatch.GetTimestamp();
            TakeSlot();
            var pages = (int)Math.Min(ChunkPages, (end - chunk) / PageSize);
            // A shared file's pages are the file's whether or not this process touched them: all are looked at.
            var scanned = region.Kind is not (RegionKind.FilePrivate or RegionKind.SharedFile) && !_noScan;
            var anyHuge = false;
            var t1 = Stopwatch.GetTimestamp();
            _waitTicks += t1 - t0;
            var runCount = scanned ? ScanRuns(chunk, pages, out anyHuge) : -1;
            scanned = runCount >= 0;
            if (!scanned) runCount = SelectRuns(region, chunk, pages);
            var t2 = Stopwatch.GetTimestamp();
            _selectTicks += t2 - t1;
            if (runCount == 0) continue;
            // Without the scan every page is looked at; with it only chunks holding huge pages, which may be all
            // zeros though not the huge zero page. A data page fails the test at its first non-zero word.
            var dropZeroPages = !scanned || anyHuge;
            Gather(region, runCount);
            _readTicks += Stopwatch.GetTimestamp() - t2;
            _chunks++;
            var (buffer, runs) = (_buffer, _runs);
            Submit(() =>
            {
                Emit(sink, buffer, runs, runCount, stored, dropZeroPages);
                progress?.Report(StoredBytes);
            });
        }
    }

    /// <summary>
    /// Copies exactly the given ascending page ranges of a region, zero pages included: in a pre-copy they replace
    /// what the target already holds, so a page that became zero must travel too.
    /// </summary>
    public void CopyRanges(MemoryRegion region, IReadOnlyList<(ulong Start, ulong End)> ranges, IImageSink sink, Action<ulong, int>? stored = null)
    {
        var next = 0;
        var done = 0UL;
        while (next < ranges.Count)
        {
            TakeSlot();
            int runCount = 0, offset = 0;
            while (next < ranges.Count && runCount < _runs.Length && offset < _buffer.Length)
            {
                var (start, end) = ranges[next];
                if (start < region.Start || end > region.End || start >= end)
                    throw new ArgumentException($"range 0x{start:x}-0x{end:x} is outside region 0x{region.Start:x}-0x{region.End:x}");
                var take = (int)Math.Min((ulong)(_buffer.Length - offset), end - start - done);
                _runs[runCount++] = (start + done, offset, take);
                offset += take;
                done += (ulong)take;
                if (start + done == end)
                {
                    next++;
                    done = 0;
                }
            }
            Gather(region, runCount);
            var (buffer, runs, count) = (_buffer, _runs, runCount);
            Submit(() =>
            {
                for (var r = 0; r < count; r++)
                {
                    var (address, at, length) = runs[r];
                    sink.WritePages(address, buffer.Span.Slice(at, length));
                    StoredBytes += (ulong)length;
                    stored?.Invoke(address, length);
                }
            });
        }
    }

    /// <summary>Queues <paramref name="action"/> for the sink thread ahead of every chunk gathered after it (it takes a
    /// slot until it has run): <see cref="EarlyPages"/> holds the pages back with it until the metadata is known.</summary>
    public void First(Action action)
    {
        TakeSlot();
        Submit(action);
    }

    /// <summary>Waits until every gathered page has reached the sink (rethrowing what the sink threw).</summary>
    public void Finish()
    {
        if (_holding)
        {
            _pipeline.ReturnSlot();
            _holding = false;
        }
        _pipeline.Finish();
    }

    /// <summary>Makes the next slot current once the sink is done with it.</summary>
    private void TakeSlot()
    {
        if (_holding) return;
        _pipeline.AcquireSlot();
        _holding = true;
        _buffer = _buffers.Data[_current];
        _runs = _buffers.Runs[_current];
    }

    private void Submit(Action emit)
    {
        _pipeline.Submit(emit);
        _holding = false;
        _current = (_current + 1) % ChunkBuffers.Slots;
    }

    /// <summary>Runs of data pages of a chunk of anonymous memory, from PAGEMAP_SCAN; -1 if this kernel lacks it.</summary>
    private int ScanRuns(ulong chunk, int pages, out bool anyHuge)
    {
        _touched.Clear();
        if (!Pagemap.TryScanTouched(_pagemap, chunk, chunk + (ulong)pages * PageSize, _touched, out anyHuge))
        {
            _noScan = true;
            return -1;
        }
        var offset = 0;
        for (var i = 0; i < _touched.Count; i++)
        {
            var (start, end) = _touched[i];
            _runs[i] = (start, offset, (int)(end - start));
            offset += (int)(end - start);
        }
        return _touched.Count;
    }

    private int SelectRuns(MemoryRegion region, ulong chunk, int pages)
    {
        var entries = _entries.AsSpan(0, pages);
        Pagemap.Read(_pagemap, chunk, entries);
        var everyPage = region.Kind == RegionKind.FilePrivate && region.AllPagesStored || region.Kind == RegionKind.SharedFile;
        var privateOnly = region.Kind == RegionKind.FilePrivate && !region.AllPagesStored;
        int runs = 0, offset = 0;
        for (var i = 0; i < pages;)
        {
            if (!Wanted(entries[i], everyPage, privateOnly))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < pages && Wanted(entries[i], everyPage, privateOnly)) i++;
            var length = (i - start) * PageSize;
            _runs[runs++] = (chunk + (ulong)start * PageSize, offset, length);
            offset += length;
        }
        return runs;
    }

    private static bool Wanted(ulong entry, bool everyPage, bool privateOnly) =>
        everyPage || (privateOnly ? Pagemap.IsPrivateData(entry) : Pagemap.IsPopulated(entry));

    private unsafe void Gather(MemoryRegion region, int runCount)
    {
        var readable = region.Protection.HasFlag(MemoryProtection.Read);
        fixed (byte* buffer = _buffer.Span)
        {
            for (var first = 0; first < runCount; first += ProcessMemory.MaxIoVecs)
            {
                var count = Math.Min(ProcessMemory.MaxIoVecs, runCount - first);
                long want = 0;
                for (var k = 0; k < count; k++)
                {
                    var (address, offset, length) = _runs[first + k];
                    _local[k] = new IoVec((nint)(buffer + offset), (nuint)length);
                    _remote[k] = new IoVec((nint)address, (nuint)length);
                    want += length;
                }
                var got = readable ? ReadVOrZero(count) : 0;
                ScannedBytes += (ulong)want;
                if (got == want) continue;
                // Short read: a page without PROT_READ or beyond the end of a mapped file. /proc/PID/mem reads
                // the former; what neither can read the process cannot read either, so it is stored as zeros.
                for (var k = 0; k < count; k++)
                {
                    var (address, offset, length) = _runs[first + k];
                    if (got >= offset - _runs[first].Offset + length) continue;
                    ReadThroughMemFile(address, _buffer.Span.Slice(offset, length));
                }
            }
        }
    }

    private long ReadVOrZero(int count)
    {
        try
        {
            return ProcessMemory.ReadV(_pid, _local.AsSpan(0, count), _remote.AsSpan(0, count));
        }
        catch (SyscallException e) when (e.Error == Errno.EFAULT)
        {
            return 0;
        }
    }

    private void ReadThroughMemFile(ulong address, Span<byte> target)
    {
        _mem ??= ProcessMemory.OpenMemFile(_pid);
        for (var page = 0; page < target.Length; page += PageSize)
        {
            var slice = target.Slice(page, PageSize);
            long n;
            try
            {
                n = ProcessMemory.ReadMemFile(_mem, address + (ulong)page, slice);
            }
            catch (SyscallException)
            {
                n = 0;
            }
            if (n != PageSize) slice.Clear();
        }
    }

    private void Emit(IImageSink sink, Memory<byte> buffer, (ulong Address, int Offset, int Length)[] runs, int runCount, Action<ulong, int>? stored,
        bool dropZeroPages)
    {
        for (var r = 0; r < runCount; r++)
        {
            var (address, offset, length) = runs[r];
            var data = buffer.Span.Slice(offset, length);
            if (!dropZeroPages)
            {
                sink.WritePages(address, data);
                StoredBytes += (ulong)length;
                stored?.Invoke(address, length);
                continue;
            }
            for (var p = 0; p < length;)
            {
                if (IsZeroPage(data.Slice(p, PageSize)))
                {
                    p += PageSize;
                    continue;
                }
                var start = p;
                while (p < length && !IsZeroPage(data.Slice(p, PageSize))) p += PageSize;
                sink.WritePages(address + (ulong)start, data[start..p]);
                StoredBytes += (ulong)(p - start);
                stored?.Invoke(address + (ulong)start, p - start);
            }
        }
    }

    private static bool IsZeroPage(ReadOnlySpan<byte> page) => MemoryMarshal.Cast<byte, ulong>(page).IndexOfAnyExcept(0UL) < 0;

    public void Dispose()
    {
        // A failed dump must not hand buffers back while a sink call still reads from them: this waits for it.
        _pipeline.Dispose();
        ChunkBuffers.Return(_buffers);
        _pagemap.Dispose();
        _mem?.Dispose();
    }
}
