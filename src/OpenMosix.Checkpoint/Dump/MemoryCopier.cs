using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Copies the touched pages of a frozen process to a sink: pagemap picks the pages (so the image is about RSS,
/// not VSZ), process_vm_readv gathers them into one reused 16 MB buffer with up to 1024 iovecs per call, all-zero
/// pages are dropped, and the non-zero runs go to the sink straight from the buffer.
/// </summary>
internal sealed class MemoryCopier : IDisposable
{
    private const int PageSize = Pagemap.PageSize;
    private const int ChunkPages = 4096;

    private readonly int _pid;
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(ChunkPages * PageSize, pinned: true);
    private readonly ulong[] _entries = new ulong[ChunkPages];
    private readonly IoVec[] _local = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly IoVec[] _remote = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly (ulong Address, int Offset, int Length)[] _runs = new (ulong, int, int)[ChunkPages];
    private readonly SafeFileHandle _pagemap;
    private SafeFileHandle? _mem;

    public MemoryCopier(int pid)
    {
        _pid = pid;
        _pagemap = Pagemap.Open(pid);
    }

    public ulong StoredBytes { get; private set; }
    public ulong ScannedBytes { get; private set; }

    public void Copy(MemoryRegion region, IImageSink sink, IProgress<ulong>? progress)
    {
        for (var chunk = region.Start; chunk < region.End; chunk += (ulong)ChunkPages * PageSize)
        {
            var pages = (int)Math.Min(ChunkPages, (region.End - chunk) / PageSize);
            var runCount = SelectRuns(region, chunk, pages);
            if (runCount == 0) continue;
            Gather(region, runCount);
            Emit(sink, runCount);
            progress?.Report(StoredBytes);
        }
    }

    private int SelectRuns(MemoryRegion region, ulong chunk, int pages)
    {
        var entries = _entries.AsSpan(0, pages);
        Pagemap.Read(_pagemap, chunk, entries);
        var everyPage = region.Kind == RegionKind.FilePrivate && region.AllPagesStored;
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
        fixed (byte* buffer = _buffer)
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
                    ReadThroughMemFile(address, _buffer.AsSpan(offset, length));
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
        catch (SyscallException e) when (e.ErrorNumber == Errno.EFAULT)
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

    private void Emit(IImageSink sink, int runCount)
    {
        for (var r = 0; r < runCount; r++)
        {
            var (address, offset, length) = _runs[r];
            var data = _buffer.AsSpan(offset, length);
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
            }
        }
    }

    private static bool IsZeroPage(ReadOnlySpan<byte> page) => MemoryMarshal.Cast<byte, ulong>(page).IndexOfAnyExcept(0UL) < 0;

    public void Dispose()
    {
        _pagemap.Dispose();
        _mem?.Dispose();
    }
}
