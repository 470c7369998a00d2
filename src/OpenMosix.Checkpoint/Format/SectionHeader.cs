using System.IO.Hashing;

namespace OpenMosix.Checkpoint.Format;

/// <summary>The fixed 32-byte header in front of every section; its own last 8 bytes check the first 24.</summary>
internal readonly record struct SectionHeader(SectionType Type, SectionCodec Codec, int RawLength, int StoredLength, ulong PayloadHash)
{
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Type);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Codec);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], RawLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], StoredLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], PayloadHash);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], XxHash64.HashToUInt64(destination[..24]));
    }

    /// <summary>LZ4 block format's best case: each further byte of a match length adds 255 bytes of output.</summary>
    private const int MaxLz4Ratio = 255;

    /// <summary>Decodes and bounds-checks a section header read at <paramref name="offset"/>.</summary>
    public static SectionHeader Parse(ReadOnlySpan<byte> source, long offset)
    {
        if (BinaryPrimitives.ReadUInt64LittleEndian(source[24..]) != XxHash64.HashToUInt64(source[..24]))
            throw Corrupt.At(offset, "section header checksum mismatch");
        var type = (SectionType)BinaryPrimitives.ReadUInt32LittleEndian(source);
        var codec = (SectionCodec)BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        var raw = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        var stored = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        var hash = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        var limit = type switch
        {
            SectionType.Metadata or SectionType.Layout or SectionType.Tree => ImageFormat.MaxMetadataBytes,
            SectionType.Pages => ImageFormat.MaxPagesPayload,
            SectionType.End => ImageFormat.EndPayloadSize,
            _ => throw Corrupt.At(offset, $"unknown section type {(uint)type}"),
        };
        if (codec is not (SectionCodec.Raw or SectionCodec.Lz4))
            throw Corrupt.At(offset, $"unknown codec {(uint)codec} in {type} section");
        if (raw < 0 || raw > limit)
            throw Corrupt.At(offset, $"{type} section claims {raw} bytes (limit {limit})");
        if (stored < 0 || (codec == SectionCodec.Raw ? stored != raw : stored > raw))
            throw Corrupt.At(offset, $"{type} section stored length {stored} does not fit raw length {raw}");
        // Refused before its buffer is allocated: otherwise a few hundred bytes claiming 32 MiB of metadata make the
        // reader allocate 64 MiB (the pool rounds up) only to find they do not decompress to it.
        if (codec == SectionCodec.Lz4 && raw > (long)stored * MaxLz4Ratio + MaxLz4Ratio)
            throw Corrupt.At(offset, $"{type} section claims {raw} bytes from {stored} compressed (LZ4 expands at most {MaxLz4Ratio} times)");
        return new SectionHeader(type, codec, raw, stored, hash);
    }
}

