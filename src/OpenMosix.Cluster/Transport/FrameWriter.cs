using System.Buffers;
using System.Buffers.Binary;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// Writes a link's frames (<c>type u8 | length u32 | payload</c>), one caller at a time (the link's write lock). On a
/// secured link each frame is one record: the header in clear and authenticated, the payload encrypted straight from
/// the caller's memory into one pooled buffer, then the tag; the whole record leaves in one write. On a plain
/// link (bench/link's floor) the frame goes as it is.
/// </summary>
internal sealed class FrameWriter(Stream stream, RecordDirection? sealing)
{
    public const int HeaderSize = 5;
    /// <summary>Smaller plain frames go out in one write with their header; larger ones are not copied for it.</summary>
    private const int CoalesceBelow = 16 * 1024;

    /// <summary>Frames from this size on are sealed into <see cref="_bulk"/>.</summary>
    private const int BulkFrom = 64 * 1024;
    /// <summary>The largest tag of a record cipher (AEGIS).</summary>
    private const int MaxTagSize = 32;

    private readonly byte[] _header = new byte[HeaderSize];
    private byte[]? _bulk;

    public async Task WriteAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        if (sealing is null && payload.Length >= CoalesceBelow)
        {
            WriteHeader(_header, (byte)type, payload.Length);
            await stream.WriteAsync(_header, cancel).ConfigureAwait(false);
            await stream.WriteAsync(payload, cancel).ConfigureAwait(false);
        }
        else await WritePooledAsync((byte)type, payload, cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// What a peer holding the link's keys could send: <paramref name="bytes"/> read as frames in the clear layout, each
    /// whole one sealed under its header as written (whatever type or length it claims), and whatever does not make a
    /// whole frame (a header cut short, a length past the end or past the limit) written as it is. Only for tests and
    /// fuzzing, which play a hostile node.
    /// </summary>
    public async Task WriteAsPeerAsync(byte[] bytes, CancellationToken cancel)
    {
        var rest = bytes.AsMemory();
        while (sealing is not null && rest.Length >= HeaderSize)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(rest.Span[1..]);
            if (length > NodeLink.MaxPayload || length > rest.Length - HeaderSize) break;
            await WritePooledAsync(rest.Span[0], rest.Slice(HeaderSize, (int)length), cancel).ConfigureAwait(false);
            rest = rest[(HeaderSize + (int)length)..];
        }
        await stream.WriteAsync(rest, cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    public static void WriteHeader(Span<byte> header, byte type, int length)
    {
        header[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)length);
    }

    /// <summary>The frame in one write from a pooled buffer: sealed as a record, or (a small plain frame) joined to its header.</summary>
    private async Task WritePooledAsync(byte type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        var size = HeaderSize + payload.Length + (sealing?.TagSize ?? 0);
        var bulk = payload.Length >= BulkFrom;
        var buffer = bulk ? BulkBuffer(size) : ArrayPool<byte>.Shared.Rent(size);
        if (!bulk) ReleaseBulk();
        try
        {
            Fill(buffer.AsSpan(0, size), type, payload.Span);
            await stream.WriteAsync(buffer.AsMemory(0, size), cancel).ConfigureAwait(false);
        }
        finally
        {
            if (!bulk) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The buffer large frames are sealed into, kept from one to the next while they follow each other (a relay of a
    /// fast writer's output, an image): a buffer rented for each went back to the pool from whatever thread finished the
    /// write, and the writer's thread then often found none and had a new one of 2 MiB made (perf, 2026-12-07: the
    /// collector busy on the copy's node during a relay). Writes are serialised (the link's write lock).
    /// </summary>
    private byte[] BulkBuffer(int size)
    {
        if (_bulk is { } kept && kept.Length >= size) return kept;
        ReleaseBulk();
        return _bulk = ArrayPool<byte>.Shared.Rent(Math.Max(size, HeaderSize + NodeLink.MaxPayload + MaxTagSize));
    }

    /// <summary>A small frame: the large ones stopped for now, and an idle link holds no MiB.</summary>
    private void ReleaseBulk()
    {
        if (_bulk is null) return;
        ArrayPool<byte>.Shared.Return(_bulk);
        _bulk = null;
    }

    private void Fill(Span<byte> frame, byte type, ReadOnlySpan<byte> payload)
    {
        WriteHeader(frame, type, payload.Length);
        if (sealing is null) payload.CopyTo(frame[HeaderSize..]);
        else sealing.Seal(frame[..HeaderSize], payload, frame[HeaderSize..]);
    }
}
