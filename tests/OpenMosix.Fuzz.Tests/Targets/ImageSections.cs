using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;
using OpenMosix.Checkpoint.Format;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// An image cut into its sections without any checking, so a mutation can change what is inside a section and then
/// seal it again (payload hash, header checksum, and when asked the end section's counts and checksum): mutations
/// then get past the checksums to the decompressor, the JSON, the validators and the page-run checks.
/// </summary>
internal sealed class ImageSections
{
    private const int Header = ImageFormat.SectionHeaderSize;

    public byte[] FileHeader { get; private init; } = [];
    public List<Section> Sections { get; } = [];
    public byte[] Tail { get; private set; } = [];

    internal sealed class Section
    {
        public uint Type;
        public uint Codec;
        public int RawLength;
        public byte[] Stored = [];
        /// <summary>When set, the header fields are written as they are and only the header checksum is repaired.</summary>
        public byte[]? RawHeader;
    }

    public static ImageSections? Split(byte[] image)
    {
        if (image.Length < ImageFormat.FileHeaderSize) return null;
        var result = new ImageSections { FileHeader = image[..ImageFormat.FileHeaderSize] };
        var at = ImageFormat.FileHeaderSize;
        while (image.Length - at >= Header)
        {
            var stored = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(at + 12));
            if (stored < 0 || stored > image.Length - at - Header) break;
            result.Sections.Add(new Section
            {
                Type = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at)),
                Codec = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at + 4)),
                RawLength = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(at + 8)),
                Stored = image.AsSpan(at + Header, stored).ToArray(),
            });
            at += Header + stored;
        }
        result.Tail = image[at..];
        return result;
    }

    /// <summary>The payload as the reader would see it after decompression (the stored bytes when that fails).</summary>
    public static byte[] Decoded(Section section)
    {
        if (section.Codec != (uint)SectionCodec.Lz4 || section.RawLength is < 0 or > ImageFormat.MaxMetadataBytes) return section.Stored;
        var raw = new byte[section.RawLength];
        return LZ4Codec.Decode(section.Stored, raw) == raw.Length ? raw : section.Stored;
    }

    /// <summary>Gives a section new contents, stored raw or LZ4-compressed, with lengths that match.</summary>
    public static void SetPayload(Section section, byte[] payload, bool compress)
    {
        section.RawHeader = null;
        section.RawLength = payload.Length;
        if (compress && payload.Length > 0)
        {
            var buffer = new byte[LZ4Codec.MaximumOutputSize(payload.Length)];
            var length = LZ4Codec.Encode(payload, buffer);
            if (length > 0 && length < payload.Length)
            {
                section.Codec = (uint)SectionCodec.Lz4;
                section.Stored = buffer[..length];
                return;
            }
        }
        section.Codec = (uint)SectionCodec.Raw;
        section.Stored = payload;
    }

    /// <summary>Makes the end section agree with the pages sections as they now are.</summary>
    public void RepairEnd()
    {
        var end = Sections.LastOrDefault(s => s.Type == (uint)SectionType.End);
        if (end is null) return;
        var checksums = new XxHash64();
        ulong sections = 0, bytes = 0;
        Span<byte> hash = stackalloc byte[8];
        foreach (var pages in Sections.Where(s => s.Type == (uint)SectionType.Pages))
        {
            sections++;
            BinaryPrimitives.WriteUInt64LittleEndian(hash, XxHash3.HashToUInt64(pages.Stored));
            checksums.Append(hash);
            var payload = Decoded(pages);
            for (var at = 0; payload.Length - at >= ImageFormat.RunHeaderSize;)
            {
                var length = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(at + 8));
                if (length > (ulong)(payload.Length - at - ImageFormat.RunHeaderSize)) break;
                bytes += length;
                at += ImageFormat.RunHeaderSize + (int)length;
            }
        }
        var payloadEnd = new byte[ImageFormat.EndPayloadSize];
        BinaryPrimitives.WriteUInt64LittleEndian(payloadEnd, sections);
        BinaryPrimitives.WriteUInt64LittleEndian(payloadEnd.AsSpan(8), bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(payloadEnd.AsSpan(16), checksums.GetCurrentHashAsUInt64());
        SetPayload(end, payloadEnd, compress: false);
    }

    /// <summary>A section's header as its fields and payload say (the header checksum is left for <see cref="Seal"/>).</summary>
    public static byte[] HeaderOf(Section section)
    {
        var header = new byte[Header];
        BinaryPrimitives.WriteUInt32LittleEndian(header, section.Type);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), section.Codec);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), section.RawLength);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), section.Stored.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), XxHash3.HashToUInt64(section.Stored));
        return header;
    }

    /// <summary>The image again, every header and payload checksum correct for what it now holds.</summary>
    public byte[] Seal()
    {
        var output = new MemoryStream();
        var fileHeader = FileHeader.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(fileHeader.AsSpan(24), XxHash64.HashToUInt64(fileHeader.AsSpan(0, 24)));
        output.Write(fileHeader);
        foreach (var section in Sections)
        {
            var header = section.RawHeader ?? HeaderOf(section);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), XxHash64.HashToUInt64(header.AsSpan(0, 24)));
            output.Write(header);
            output.Write(section.Stored);
        }
        output.Write(Tail);
        return output.ToArray();
    }
}
