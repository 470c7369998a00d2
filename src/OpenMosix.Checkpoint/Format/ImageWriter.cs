using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using K4os.Compression.LZ4;

namespace OpenMosix.Checkpoint.Format;

public sealed record ImageWriterOptions(bool Compress = false, bool LeaveOpen = false);

/// <summary>
/// Writes an image to any stream, front to back, never seeking: header, metadata, page sections as the dumper
/// delivers them, end section. Large runs go from the caller's buffer to the stream without being copied.
/// </summary>
public sealed class ImageWriter : IImageSink, IDisposable
{
    /// <summary>Runs up to this size are gathered into one section; larger ones get sections of their own.</summary>
    private const int BatchCapacity = 1 << 20;
    private const int MaxRunPerSection = 16 << 20;

    private readonly Stream _stream;
    private readonly ImageWriterOptions _options;
    private readonly byte[] _batch = new byte[BatchCapacity];
    private readonly byte[] _header = new byte[ImageFormat.SectionHeaderSize + ImageFormat.RunHeaderSize];
    private readonly XxHash3 _payloadHash = new();
    private readonly XxHash64 _sectionChecksums = new();
    private byte[]? _compressed;
    private byte[]? _runPayload;
    private int _batchLength;
    private ulong _nextAddress;
    private ulong _pageSections;
    private ulong _pageBytes;
    private bool _metadataWritten;
    private bool _completed;

    public ImageWriter(Stream stream, ImageWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _options = options ?? new ImageWriterOptions();
        Span<byte> header = stackalloc byte[ImageFormat.FileHeaderSize];
        header.Clear();
        ImageFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], ImageFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)(_options.Compress ? ImageFlags.Compressed : ImageFlags.None));
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], XxHash64.HashToUInt64(header[..24]));
        _stream.Write(header);
    }

    /// <summary>Bytes of page contents written so far.</summary>
    public ulong PageBytes => _pageBytes;

    public void WriteMetadata(ProcessImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        WriteFirstSection(SectionType.Metadata, image, ImageJsonContext.Default.ProcessImage, "metadata");
    }

    /// <summary>Starts a pre-copy round: the layout takes the place of the metadata.</summary>
    public void WriteLayout(PrecopyLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        WriteFirstSection(SectionType.Layout, layout, ImageJsonContext.Default.PrecopyLayout, "layout");
    }

    /// <summary>The tree section of a process tree's directory; <see cref="Complete"/> then ends the file, without pages.</summary>
    public void WriteTree(TreeImage tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        WriteFirstSection(SectionType.Tree, tree, ImageJsonContext.Default.TreeImage, "tree");
    }

    /// <summary>The section that opens an image (metadata) or a pre-copy round (layout), as JSON.</summary>
    private void WriteFirstSection<T>(SectionType type, T value, JsonTypeInfo<T> info, string what)
    {
        if (_metadataWritten) throw new InvalidOperationException("metadata already written");
        var json = JsonSerializer.SerializeToUtf8Bytes(value, info);
        if (json.Length > ImageFormat.MaxMetadataBytes)
            throw new InvalidOperationException($"{what} of {json.Length} bytes exceeds the format's limit");
        WriteSection(type, json);
        _metadataWritten = true;
    }

    public void WritePages(ulong address, ReadOnlySpan<byte> data)
    {
        if (!_metadataWritten || _completed) throw new InvalidOperationException("pages must come after metadata and before completion");
        if (data.IsEmpty) return;
        if (address % ImageFormat.PageSize != 0 || data.Length % ImageFormat.PageSize != 0)
            throw new ArgumentException($"page run 0x{address:x}+{data.Length} is not page-aligned");
        if (address < _nextAddress)
            throw new ArgumentException($"page run 0x{address:x} is below the previous run's end 0x{_nextAddress:x}");
        _nextAddress = address + (ulong)data.Length;
        _pageBytes += (ulong)data.Length;

        if (data.Length + ImageFormat.RunHeaderSize <= BatchCapacity / 4)
        {
            if (_batchLength + ImageFormat.RunHeaderSize + data.Length > BatchCapacity) FlushBatch();
            WriteRunHeader(_batch.AsSpan(_batchLength), address, data.Length);
            data.CopyTo(_batch.AsSpan(_batchLength + ImageFormat.RunHeaderSize));
            _batchLength += ImageFormat.RunHeaderSize + data.Length;
            return;
        }
        FlushBatch();
        for (var offset = 0; offset < data.Length; offset += MaxRunPerSection)
        {
            var piece = data.Slice(offset, Math.Min(MaxRunPerSection, data.Length - offset));
            WriteSingleRunSection(address + (ulong)offset, piece);
        }
    }

    public void Complete()
    {
        if (!_metadataWritten) throw new InvalidOperationException("metadata was never written");
        if (_completed) return;
        FlushBatch();
        Span<byte> end = stackalloc byte[ImageFormat.EndPayloadSize];
        BinaryPrimitives.WriteUInt64LittleEndian(end, _pageSections);
        BinaryPrimitives.WriteUInt64LittleEndian(end[8..], _pageBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(end[16..], _sectionChecksums.GetCurrentHashAsUInt64());
        WriteSection(SectionType.End, end, countAsPages: false);
        _stream.Flush();
        _completed = true;
    }

    public void Dispose()
    {
        _payloadHash.Reset();
        if (!_options.LeaveOpen) _stream.Dispose();
    }

    private void FlushBatch()
    {
        if (_batchLength == 0) return;
        WriteSection(SectionType.Pages, _batch.AsSpan(0, _batchLength), countAsPages: true);
        _batchLength = 0;
    }

    /// <summary>A big run: hashed and written straight from the caller's memory unless compression is on.</summary>
    private void WriteSingleRunSection(ulong address, ReadOnlySpan<byte> data)
    {
        var length = ImageFormat.RunHeaderSize + data.Length;
        if (_options.Compress)
        {
            _runPayload ??= new byte[ImageFormat.MaxPagesPayload];
            WriteRunHeader(_runPayload, address, data.Length);
            data.CopyTo(_runPayload.AsSpan(ImageFormat.RunHeaderSize));
            WriteSection(SectionType.Pages, _runPayload.AsSpan(0, length), countAsPages: true);
            return;
        }
        var runHeader = _header.AsSpan(ImageFormat.SectionHeaderSize, ImageFormat.RunHeaderSize);
        WriteRunHeader(runHeader, address, data.Length);
        _payloadHash.Reset();
        _payloadHash.Append(runHeader);
        _payloadHash.Append(data);
        var hash = _payloadHash.GetCurrentHashAsUInt64();
        new SectionHeader(SectionType.Pages, SectionCodec.Raw, length, length, hash).WriteTo(_header);
        _stream.Write(_header);
        _stream.Write(data);
        NotePagesSection(hash);
    }

    private void WriteSection(SectionType type, ReadOnlySpan<byte> payload, bool countAsPages = false)
    {
        var codec = SectionCodec.Raw;
        var stored = payload;
        if (_options.Compress && type != SectionType.End)
        {
            var bound = LZ4Codec.MaximumOutputSize(payload.Length);
            if (_compressed is null || _compressed.Length < bound) _compressed = new byte[bound];
            var compressedLength = LZ4Codec.Encode(payload, _compressed);
            if (compressedLength > 0 && compressedLength < payload.Length)
            {
                codec = SectionCodec.Lz4;
                stored = _compressed.AsSpan(0, compressedLength);
            }
        }
        var hash = XxHash3.HashToUInt64(stored);
        new SectionHeader(type, codec, payload.Length, stored.Length, hash).WriteTo(_header);
        _stream.Write(_header.AsSpan(0, ImageFormat.SectionHeaderSize));
        _stream.Write(stored);
        if (countAsPages) NotePagesSection(hash);
    }

    private void NotePagesSection(ulong hash)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, hash);
        _sectionChecksums.Append(bytes);
        _pageSections++;
    }

    private static void WriteRunHeader(Span<byte> destination, ulong address, int length)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, address);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)length);
    }
}
