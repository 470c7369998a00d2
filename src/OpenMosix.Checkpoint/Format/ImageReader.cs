using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using K4os.Compression.LZ4;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Reads an image from any stream, front to back. Everything is checked as it arrives: checksums, bounds, and that
/// every page run lies, ascending and page-aligned, inside a region of the metadata that carries contents. Any
/// damage is a <see cref="CorruptImageException"/>; a reader never allocates more than the format's limits.
/// </summary>
public sealed class ImageReader : IImageSource, IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _sectionHeader = new byte[ImageFormat.SectionHeaderSize];
    private readonly XxHash64 _sectionChecksums = new();
    private byte[] _stored = [];
    private byte[] _payload = [];
    private int _payloadLength;
    private int _runOffset;
    private long _position;
    private RegionIndex? _regions;
    private ulong _nextAddress;
    private ulong _pageSections;
    private ulong _pageBytes;
    private ulong _pageRuns;
    private bool _ended;

    public ImageReader(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    public ImageFlags Flags { get; private set; }
    public ulong PageSections => _pageSections;
    public ulong PageBytes => _pageBytes;
    public ulong PageRuns => _pageRuns;
    /// <summary>Bytes consumed from the stream so far.</summary>
    public long Position => _position;

    public ProcessImage ReadMetadata()
    {
        if (_regions is not null) throw new InvalidOperationException("metadata already read");
        ReadFileHeader();
        var header = ReadSection();
        if (header.Type != SectionType.Metadata)
            throw Corrupt.At(_position, $"expected the metadata section first, found {header.Type}");
        ProcessImage? image;
        try
        {
            image = JsonSerializer.Deserialize(_payload.AsSpan(0, _payloadLength), ImageJsonContext.Default.ProcessImage);
        }
        catch (JsonException e)
        {
            throw Corrupt.At(_position, $"metadata is not a valid process description ({e.Message})");
        }
        if (image is null) throw Corrupt.At(_position, "metadata is empty");
        _payloadLength = 0;
        _regions = MetadataValidator.Validate(image);
        return image;
    }

    public PageRun? ReadNextPageRun()
    {
        if (_regions is null) throw new InvalidOperationException("read the metadata first");
        while (!_ended)
        {
            if (_runOffset < _payloadLength) return NextRunInSection();
            var header = ReadSection();
            switch (header.Type)
            {
                case SectionType.Pages:
                    NotePagesSection(header.PayloadHash);
                    if (_payloadLength == 0) throw Corrupt.At(_position, "empty pages section");
                    break;
                case SectionType.End:
                    CheckEnd();
                    return null;
                default:
                    throw Corrupt.At(_position, $"unexpected {header.Type} section among the pages");
            }
        }
        return null;
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
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
        var at = _position - _payloadLength + _runOffset;
        if (_payloadLength - _runOffset < ImageFormat.RunHeaderSize) throw Corrupt.At(at, "page run header cut short");
        var address = BinaryPrimitives.ReadUInt64LittleEndian(_payload.AsSpan(_runOffset));
        var length = BinaryPrimitives.ReadUInt64LittleEndian(_payload.AsSpan(_runOffset + 8));
        var start = _runOffset + ImageFormat.RunHeaderSize;
        if (length == 0 || length % ImageFormat.PageSize != 0 || address % ImageFormat.PageSize != 0)
            throw Corrupt.At(at, $"page run 0x{address:x}+{length} is not page-aligned");
        if (length > (ulong)(_payloadLength - start))
            throw Corrupt.At(at, $"page run 0x{address:x}+{length} runs past its section");
        if (address < _nextAddress)
            throw Corrupt.At(at, $"page run 0x{address:x} overlaps or precedes the previous run (ends 0x{_nextAddress:x})");
        if (!_regions!.HoldsContents(address, length))
            throw Corrupt.At(at, $"page run 0x{address:x}+{length} lies outside every region that carries contents");
        _nextAddress = address + length;
        _runOffset = start + (int)length;
        _pageBytes += length;
        _pageRuns++;
        return new PageRun(address, _payload.AsMemory(start, (int)length));
    }

    private void ReadFileHeader()
    {
        Span<byte> header = stackalloc byte[ImageFormat.FileHeaderSize];
        var got = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got == 0) throw new CorruptImageException("not an openMosix.NET image: it is empty");
        if (got < header.Length || !header[..8].SequenceEqual(ImageFormat.Magic))
            throw new CorruptImageException("not an openMosix.NET image (bad magic)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[24..]) != XxHash64.HashToUInt64(header[..24]))
            throw Corrupt.At(0, "file header checksum mismatch");
        if (version != ImageFormat.Version)
            throw new CorruptImageException($"unsupported image format version {version} (this om reads version {ImageFormat.Version})");
        Flags = (ImageFlags)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        _position = header.Length;
    }

    /// <summary>Reads one section whole into <see cref="_payload"/>, checked and decompressed.</summary>
    private SectionHeader ReadSection()
    {
        var at = _position;
        ReadExactly(_sectionHeader, "a section header");
        var header = SectionHeader.Parse(_sectionHeader, at);
        EnsureCapacity(ref _stored, header.StoredLength);
        ReadExactly(_stored.AsSpan(0, header.StoredLength), $"{header.StoredLength} bytes of a {header.Type} section");
        var stored = _stored.AsSpan(0, header.StoredLength);
        if (XxHash3.HashToUInt64(stored) != header.PayloadHash)
            throw Corrupt.At(at, $"{header.Type} section checksum mismatch");
        if (header.Codec == SectionCodec.Lz4)
        {
            EnsureCapacity(ref _payload, header.RawLength);
            var decoded = LZ4Codec.Decode(stored, _payload.AsSpan(0, header.RawLength));
            if (decoded != header.RawLength) throw Corrupt.At(at, $"{header.Type} section does not decompress to its stated size");
        }
        else
        {
            (_payload, _stored) = (_stored, _payload);
        }
        _payloadLength = header.RawLength;
        _runOffset = 0;
        return header;
    }

    private void CheckEnd()
    {
        var at = _position - _payloadLength;
        if (_payloadLength != ImageFormat.EndPayloadSize) throw Corrupt.At(at, "end section has the wrong size");
        var sections = BinaryPrimitives.ReadUInt64LittleEndian(_payload);
        var bytes = BinaryPrimitives.ReadUInt64LittleEndian(_payload.AsSpan(8));
        var checksums = BinaryPrimitives.ReadUInt64LittleEndian(_payload.AsSpan(16));
        if (sections != _pageSections || bytes != _pageBytes)
            throw Corrupt.At(at, $"end section counts {sections} page sections / {bytes} bytes, the image held {_pageSections} / {_pageBytes}");
        if (checksums != _sectionChecksums.GetCurrentHashAsUInt64())
            throw Corrupt.At(at, "page sections were reordered, dropped or replaced");
        Span<byte> probe = stackalloc byte[1];
        if (_stream.Read(probe) != 0) throw Corrupt.At(_position, "data after the end section");
        _ended = true;
        _payloadLength = 0;
    }

    private void ReadExactly(Span<byte> destination, string what)
    {
        var got = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length) throw Corrupt.Truncated(_position + got, what);
        _position += got;
    }

    private static void EnsureCapacity(ref byte[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new byte[Math.Max(length, Math.Min(buffer.Length * 2, ImageFormat.MaxPagesPayload))];
    }
}
