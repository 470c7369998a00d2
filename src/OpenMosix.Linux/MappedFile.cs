using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Linux;

/// <summary>
/// A regular file mapped read-only, as memory that can be handed out in slices (<see cref="Memory{T}"/>), so that a
/// reader can check and pass on its bytes where the page cache holds them instead of copying them into a buffer first.
/// The file must not shrink while mapped: touching a page past its new end raises SIGBUS, which ends the process.
/// Use it only for files no one else writes.
/// </summary>
public sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly nint _address;
    private readonly long _length;
    private bool _unmapped;

    private MappedFile(nint address, long length)
    {
        _address = address;
        _length = length;
    }

    public long Length => _length;

    /// <summary>Maps the first <paramref name="length"/> bytes of <paramref name="file"/>; null when the file cannot be
    /// mapped (a pipe, a device, a file system without mmap) or is empty.</summary>
    public static MappedFile? TryMap(SafeFileHandle file, long length)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (length <= 0) return null;
        var address = Sys.Mmap(0, (nuint)length, Sys.PROT_READ, Sys.MAP_SHARED, file, 0);
        return address == Sys.MAP_FAILED ? null : new MappedFile(address, length);
    }

    /// <summary>The bytes at [offset, offset+length) of the file.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > _length) throw new ArgumentOutOfRangeException(nameof(length), $"{offset}+{length} is past the mapping's {_length} bytes");
        return new SliceManager(this, offset, length).Memory;
    }

    /// <summary>
    /// Drops this mapping's page-table entries for the whole pages inside [offset, offset+length): a reader done with a
    /// part lets go of it as it goes, so that unmapping the rest at the end is short (zapping 64 MiB of entries took
    /// ~2 ms at munmap, paid after the restored process was ready). The bytes stay the file's: touching the range
    /// again maps them again from the page cache.
    /// </summary>
    public void Release(long offset, long length)
    {
        if (_unmapped || length <= 0 || offset < 0 || offset + length > _length) return;
        const long page = 4096;
        var start = (offset + page - 1) & ~(page - 1);
        var end = (offset + length) & ~(page - 1);
        if (end > start) _ = Sys.Madvise(_address + (nint)start, (nuint)(end - start), Sys.MADV_DONTNEED);
    }

    public override Span<byte> GetSpan() =>
        _length <= int.MaxValue ? new Span<byte>((void*)_address, (int)_length) : throw new InvalidOperationException("take a Slice of a mapping over 2 GiB");

    public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)_address + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_unmapped) return;
        _unmapped = true;
        _ = Sys.Munmap(_address, (nuint)_length);
    }

    /// <summary>One window of the mapping (a Memory of a MemoryManager is limited to 2 GiB, an image is not).</summary>
    private sealed class SliceManager(MappedFile file, long offset, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new((byte*)file._address + offset, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)file._address + offset + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
