using System.Buffers;
using System.IO.Hashing;
using System.Text.Json;
using K4os.Compression.LZ4;

namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Reads an image from any stream, front to back. Everything is checked as it arrives: checksums, bounds, and that
/// every page run lies, ascending and page-aligned, inside a region of the metadata that carries contents. Any
/// damage is a <see cref="CorruptImageException"/>; a reader never allocates more than the format's limits.
/// While the caller consumes one pages section, the next is read, checked and decompressed on another core.
/// </summary>
public sealed class ImageReader : IImageSource, IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _mapFile;
    /// <summary>The image file mapped (with <c>mapFile</c>), and where in it the image starts.</summary>
    private MappedFile? _map;
    private long _mapBase;
    private readonly XxHash64 _sectionChecksums = new();
    private LoadedSection _current = new();
    private LoadedSection _spare = new();
    private Task<LoadedSection>? _next;
    private int _runOffset;
    private long _position;
    private RegionIndex? _regions;
    private ulong _nextAddress;
    private ulong _pageSections;
    private ulong _pageBytes;
    private ulong _pageRuns;
    private bool _ended;
    private bool _disposed;

    /// <param name="mapFile">When the stream is a regular file, map it and check and hand out its pages where the page
    /// cache holds them, instead of copying each section into a buffer first (one copy less per byte on a restore).
    /// Only for files no one else writes meanwhile: a file that shrinks under the mapping ends the process (SIGBUS).</param>
    public ImageReader(Stream stream, bool leaveOpen = false, bool mapFile = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _mapFile = mapFile;
    }

    public ImageFlags Flags { get; private set; }
    /// <summary>The format version of the file header (after the first section was read).</summary>
    public uint Version { get; private set; }
    public ulong PageSections => _pageSections;
    public ulong PageBytes => _pageBytes;
    public ulong PageRuns => _pageRuns;
    /// <summary>Bytes consumed from the stream so far.</summary>
    public long Position => _position;

    public ProcessImage ReadMetadata()
    {
        var image = ReadFirstSection(SectionType.Metadata, ImageJsonContext.Default.ProcessImage, "a valid process description");
        _regions = MetadataValidator.Validate(image);
        StartReadAhead();
        return image;
    }

    /// <summary>Reads the layout of a pre-copy round; its page runs must lie in the layout's tracked ranges.</summary>
    public PrecopyLayout ReadLayout()
    {
        var layout = ReadFirstSection(SectionType.Layout, ImageJsonContext.Default.PrecopyLayout, "a valid pre-copy layout");
        _regions = MetadataValidator.Validate(layout);
        StartReadAhead();
        return layout;
    }

    /// <summary>Reads the tree section of a process tree's directory, and its end: a tree file holds no pages.</summary>
    public TreeImage ReadTree()
    {
        var tree = ReadFirstSection(SectionType.Tree, ImageJsonContext.Default.TreeImage, "a valid process tree");
        if (Version < 4) throw Corrupt.At(ImageFormat.FileHeaderSize, $"a tree section in a version {Version} file (trees came with version 4)");
        TreeValidator.Validate(tree);
        _regions = new RegionIndex([]);
        if (ReadNextPageRun() is not null) throw Corrupt.At(_position, "a tree file holds pages");
        return tree;
    }

    private T ReadFirstSection<T>(SectionType type, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json, string what) where T : class
    {
        if (_regions is not null) throw new InvalidOperationException("metadata already read");
        ReadFileHeader();
        var section = Load(_current);
        if (section.Header.Type != type)
            throw Corrupt.At(section.Start, $"expected the {type.ToString().ToLowerInvariant()} section first, found {section.Header.Type}");
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(section.Payload.Span[..section.Length], json);
        }
        catch (JsonException e)
        {
            // The parser's message may quote the offending text, line breaks and all: one line, and not a page of it.
            var why = e.Message.ReplaceLineEndings(" ");
            if (why.Length > 240) why = why[..240] + "...";
            throw Corrupt.At(section.Start, $"{type.ToString().ToLowerInvariant()} is not {what} ({why})");
        }
        if (value is null) throw Corrupt.At(section.Start, $"{type.ToString().ToLowerInvariant()} is empty");
        section.Length = 0;
        return value;
    }

    // The first pages section is read while the caller prepares for it (a restore spawns and lays out its process).
    private void StartReadAhead()
    {
        var spare = _spare;
        _next = Task.Run(() => Load(spare));
    }

    public PageRun? ReadNextPageRun()
    {
        if (_regions is null) throw new InvalidOperationException("read the metadata first");
        while (!_ended)
        {
            if (_runOffset < _current.Length) return NextRunInSection();
            var section = TakeNextSection();
            _runOffset = 0;
            switch (section.Header.Type)
            {
                case SectionType.Pages:
                    NotePagesSection(section.Header.PayloadHash);
                    if (section.Length == 0) throw Corrupt.At(section.Start, "empty pages section");
                    var spare = _spare;
                    _next = Task.Run(() => Load(spare));
                    break;
                case SectionType.End:
                    CheckEnd(section);
                    return null;
                default:
                    throw Corrupt.At(section.Start, $"unexpected {section.Header.Type} section among the pages");
            }
        }
        return null;
    }

    /// <summary>Page runs handed out before must not be used after this: their buffers go back to the pool.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _next?.Wait();
        }
        catch (AggregateException)
        {
            // A read-ahead that failed: the caller has stopped reading, so there is no one left to tell.
        }
        _next = null;
        _current.ReturnBuffers();
        _spare.ReturnBuffers();
        ((IDisposable?)_map)?.Dispose();
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <inheritdoc/>
    public Action<Task>? WaitForSection { get; set; }

    /// <summary>The section after the current one: the read-ahead's result, or read now.</summary>
    private LoadedSection TakeNextSection()
    {
        LoadedSection next;
        if (_next is null && WaitForSection is not null)
        {
            var spare = _spare;
            _next = Task.Run(() => Load(spare));
        }
        if (_next is { } pending)
        {
            _next = null;
            WaitForSection?.Invoke(pending);
            next = pending.GetAwaiter().GetResult();
        }
        else
        {
            next = Load(_spare);
        }
        _spare = _current;
        _current = next;
        return next;
    }

    private void NotePagesSection(ulong payloadHash)
    {
        Span<byte> hash = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(hash, payloadHash);
        _sectionChecksums.Append(hash);
        _pageSections++;
    }

    private PageRun NextRunInSection()
    {
        var payload = _current.Payload;
        var length = _current.Length;
        var at = _current.PayloadStart + _runOffset;
        if (length - _runOffset < ImageFormat.RunHeaderSize) throw Corrupt.At(at, "page run header cut short");
        var address = BinaryPrimitives.ReadUInt64LittleEndian(payload.Span[_runOffset..]);
        var runLength = BinaryPrimitives.ReadUInt64LittleEndian(payload.Span[(_runOffset + 8)..]);
        var start = _runOffset + ImageFormat.RunHeaderSize;
        if (runLength == 0 || runLength % ImageFormat.PageSize != 0 || address % ImageFormat.PageSize != 0)
            throw Corrupt.At(at, $"page run 0x{address:x}+{runLength} is not page-aligned");
        if (runLength > (ulong)(length - start))
            throw Corrupt.At(at, $"page run 0x{address:x}+{runLength} runs past its section");
        if (address < _nextAddress)
            throw Corrupt.At(at, $"page run 0x{address:x} overlaps or precedes the previous run (ends 0x{_nextAddress:x})");
        if (!_regions!.HoldsContents(address, runLength))
            throw Corrupt.At(at, $"page run 0x{address:x}+{runLength} lies outside every region that carries contents");
        _nextAddress = address + runLength;
        _runOffset = start + (int)runLength;
        _pageBytes += runLength;
        _pageRuns++;
        return new PageRun(address, payload.Slice(start, (int)runLength));
    }

    private void ReadFileHeader()
    {
        if (_mapFile && _stream is FileStream { CanSeek: true } file)
        {
            _mapBase = file.Position;
            _map = MappedFile.TryMap(file.SafeFileHandle, file.Length);
        }
        Span<byte> header = stackalloc byte[ImageFormat.FileHeaderSize];
        var got = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got == 0) throw new CorruptImageException("not an openMosix.NET image: it is empty");
        if (got < header.Length || !header[..8].SequenceEqual(ImageFormat.Magic))
            throw new CorruptImageException("not an openMosix.NET image (bad magic)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[24..]) != XxHash64.HashToUInt64(header[..24]))
            throw Corrupt.At(0, "file header checksum mismatch");
        if (version is 1 or 2)
            throw new CorruptImageException($"image format version {version} is from before {(version == 1 ? "threads" : "privilege limits")} were saved (this om reads version {ImageFormat.Version}): take the checkpoint again");
        if (version is < ImageFormat.OldestReadable or > ImageFormat.Version)
            throw new CorruptImageException($"unsupported image format version {version} (this om reads version {ImageFormat.Version})");
        Flags = (ImageFlags)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        Version = version;
        _position = header.Length;
    }

    /// <summary>
    /// Reads the next section whole into <paramref name="into"/>, checked and decompressed. Only one load runs at a
    /// time (the read-ahead is awaited before the next one starts), so the stream and position are never shared.
    /// </summary>
    private LoadedSection Load(LoadedSection into)
    {
        var at = _position;
        ReadExactly(into.HeaderBytes, "a section header");
        var header = SectionHeader.Parse(into.HeaderBytes, at);
        // A file tells how much is left: a section claiming more is refused before its buffer (up to 64 MiB) is taken.
        if (_stream.CanSeek && header.StoredLength > _stream.Length - _stream.Position)
            throw Corrupt.Truncated(_position + _stream.Length - _stream.Position, $"{header.StoredLength} bytes of a {header.Type} section");
        // The section this buffer held before was consumed two sections ago (a run is not used once the next
        // section is taken): its page-table entries go now, on this read-ahead thread, beside the caller's writing.
        if (into.Mapped is not null) _map?.Release(into.MappedAt, into.Mapped.Value.Length);
        into.Mapped = null;
        ReadOnlySpan<byte> stored;
        if (_map is not null && header.Codec == SectionCodec.Raw && _mapBase + _position + header.StoredLength <= _map.Length)
        {
            // Checked and handed out where the page cache holds it: the stream only skips over it.
            into.MappedAt = _mapBase + _position;
            into.Mapped = _map.Slice(into.MappedAt, header.StoredLength);
            _stream.Seek(header.StoredLength, SeekOrigin.Current);
            _position += header.StoredLength;
            stored = into.Mapped.Value.Span;
        }
        else
        {
            EnsureCapacity(ref into.Stored, header.StoredLength);
            ReadExactly(into.Stored.AsSpan(0, header.StoredLength), $"{header.StoredLength} bytes of a {header.Type} section");
            stored = into.Stored.AsSpan(0, header.StoredLength);
        }
        if (XxHash3.HashToUInt64(stored) != header.PayloadHash)
            throw Corrupt.At(at, $"{header.Type} section checksum mismatch");
        into.Compressed = header.Codec == SectionCodec.Lz4;
        if (into.Compressed)
        {
            EnsureCapacity(ref into.Decoded, header.RawLength);
            var decoded = LZ4Codec.Decode(stored, into.Decoded.AsSpan(0, header.RawLength));
            if (decoded != header.RawLength) throw Corrupt.At(at, $"{header.Type} section does not decompress to its stated size");
        }
        into.Header = header;
        into.Length = header.RawLength;
        into.Start = at;
        into.PayloadStart = at + ImageFormat.SectionHeaderSize;
        return into;
    }

    private void CheckEnd(LoadedSection end)
    {
        if (end.Length != ImageFormat.EndPayloadSize) throw Corrupt.At(end.Start, "end section has the wrong size");
        var payload = end.Payload.Span;
        var sections = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var bytes = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var checksums = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        if (sections != _pageSections || bytes != _pageBytes)
            throw Corrupt.At(end.Start, $"end section counts {sections} page sections / {bytes} bytes, the image held {_pageSections} / {_pageBytes}");
        if (checksums != _sectionChecksums.GetCurrentHashAsUInt64())
            throw Corrupt.At(end.Start, "page sections were reordered, dropped or replaced");
        Span<byte> probe = stackalloc byte[1];
        if (_stream.Read(probe) != 0) throw Corrupt.At(_position, "data after the end section");
        _ended = true;
        end.Length = 0;
    }

    private void ReadExactly(Span<byte> destination, string what)
    {
        var got = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length) throw Corrupt.Truncated(_position + got, what);
        _position += got;
    }

    // Section buffers come from the shared pool: a restore or verify of a large image reuses the 16 MB buffers of the
    // previous one instead of faulting in fresh memory (which on a VM with free page reporting may cost a host fault
    // per page). Only [0, length) of a buffer is ever read, and always after being filled.
    private static void EnsureCapacity(ref byte[] buffer, int length)
    {
        if (buffer.Length >= length) return;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, ImageFormat.MaxPagesPayload));
    }

    /// <summary>
    /// One section's bytes; the reader keeps two, one being consumed and one being read ahead. Each keeps its buffers
    /// from section to section: a raw section is used where it was read, a compressed one is decoded beside it.
    /// </summary>
    private sealed class LoadedSection
    {
        public readonly byte[] HeaderBytes = new byte[ImageFormat.SectionHeaderSize];
        public byte[] Stored = [];
        public byte[] Decoded = [];
        public bool Compressed;
        /// <summary>The section's bytes in the mapped image file, when they are used from there.</summary>
        public ReadOnlyMemory<byte>? Mapped;
        /// <summary>Where <see cref="Mapped"/> starts in the mapping.</summary>
        public long MappedAt;
        public ReadOnlyMemory<byte> Payload => Compressed ? Decoded : Mapped ?? Stored;
        public SectionHeader Header;
        public int Length;
        public long Start;
        public long PayloadStart;

        public void ReturnBuffers()
        {
            if (Stored.Length > 0) ArrayPool<byte>.Shared.Return(Stored);
            if (Decoded.Length > 0) ArrayPool<byte>.Shared.Return(Decoded);
            Stored = Decoded = [];
            Mapped = null;
            Length = 0;
        }
    }
}
