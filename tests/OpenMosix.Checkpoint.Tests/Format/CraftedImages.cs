using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>
/// Builds images byte by byte, with valid checksums, for contents the writer itself would never produce (runs
/// outside regions, overlapping runs, lying lengths): the reader must refuse them on meaning, not on checksums.
/// </summary>
internal static class CraftedImages
{
    public static byte[] Build(ProcessImage image, params byte[][] pagePayloads) =>
        Build(JsonSerializer.SerializeToUtf8Bytes(image, ImageJsonContext.Default.ProcessImage), pagePayloads);

    public static byte[] Build(byte[] metadataJson, params byte[][] pagePayloads) => Build(SectionType.Metadata, metadataJson, pagePayloads);

    /// <summary>An image whose first section is <paramref name="type"/> (metadata, or a pre-copy round's layout).</summary>
    public static byte[] Build(SectionType type, byte[] json, params byte[][] pagePayloads)
    {
        var o = new MemoryStream();
        var header = new byte[ImageFormat.FileHeaderSize];
        ImageFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), ImageFormat.Version);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), XxHash64.HashToUInt64(header.AsSpan(0, 24)));
        o.Write(header);
        Section(o, type, json);
        var checksums = new XxHash64();
        ulong bytes = 0;
        foreach (var payload in pagePayloads)
        {
            var hash = Section(o, SectionType.Pages, payload);
            var h = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(h, hash);
            checksums.Append(h);
            for (var at = 0; at + ImageFormat.RunHeaderSize <= payload.Length;)
            {
                var length = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(at + 8));
                bytes += length;
                at += ImageFormat.RunHeaderSize + (int)Math.Min(length, (ulong)payload.Length);
            }
        }
        var end = new byte[ImageFormat.EndPayloadSize];
        BinaryPrimitives.WriteUInt64LittleEndian(end, (ulong)pagePayloads.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(end.AsSpan(8), bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(end.AsSpan(16), checksums.GetCurrentHashAsUInt64());
        Section(o, SectionType.End, end);
        return o.ToArray();
    }

    /// <summary>A pages payload holding the given runs, each filled with a non-zero byte.</summary>
    public static byte[] Runs(params (ulong Address, int Length)[] runs)
    {
        var o = new MemoryStream();
        foreach (var (address, length) in runs)
        {
            var head = new byte[ImageFormat.RunHeaderSize];
            BinaryPrimitives.WriteUInt64LittleEndian(head, address);
            BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(8), (ulong)length);
            o.Write(head);
            o.Write(Enumerable.Repeat((byte)0x5a, length).ToArray());
        }
        return o.ToArray();
    }

    /// <summary>A section header with a valid checksum but whatever lengths the test wants to lie about.</summary>
    public static byte[] SectionHeaderBytes(SectionType type, int raw, int stored)
    {
        var bytes = new byte[ImageFormat.SectionHeaderSize];
        new SectionHeader(type, SectionCodec.Raw, raw, stored, 0).WriteTo(bytes);
        return bytes;
    }

    private static ulong Section(Stream o, SectionType type, byte[] payload)
    {
        var hash = XxHash3.HashToUInt64(payload);
        var head = new byte[ImageFormat.SectionHeaderSize];
        new SectionHeader(type, SectionCodec.Raw, payload.Length, payload.Length, hash).WriteTo(head);
        o.Write(head);
        o.Write(payload);
        return hash;
    }
}
