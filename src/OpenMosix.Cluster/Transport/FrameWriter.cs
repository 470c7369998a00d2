using System.Buffers;
using System.Buffers.Binary;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// Writes a link's frames (<c>type u8 | length u32 | payload</c>), one caller at a time (the link's write lock). On a
/// secured link each frame is one record: the header in clear and authenticated, the payload encrypted straight from
/// the caller's memory into one pooled buffer, then the tag; the whole record leaves in one write. On a plain
/// link (bench/link's floor) the frame goes as it is.
/// A large record is pipelined: its write is started and left in flight, and the next record is sealed into the other
/// of two buffers meanwhile, so the cipher of one record runs while the kernel copies the one before (on two cores,
/// or while this end waits for the peer to make room). Records still leave in the order they were sealed (each
/// write starts after the one before has finished), and every frame that is not a large record, and the link's
/// close, first waits for the one in flight (<see cref="DrainAsync"/>).
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
    /// <summary>The two buffers large records are sealed into, by turns (<see cref="BulkBuffer"/>).</summary>
    private readonly byte[]?[] _bulk = new byte[2][];
    private int _nextBulk;
    /// <summary>The write of the last large record, left running when its frame's call returned.</summary>
    private Task? _inFlight;

    public async Task WriteAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        if (sealing is not null && payload.Length >= BulkFrom)
        {
            await WriteRecordPipelinedAsync((byte)type, payload, cancel).ConfigureAwait(false);
            return;
        }
        await DrainAsync().ConfigureAwait(false);
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
        await DrainAsync().ConfigureAwait(false);
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

    /// <summary>
    /// Waits for the large record in flight, if any, to be in the kernel's hands; a failure of its write is thrown
    /// here. Called under the link's write lock, or once the link is closing.
    /// </summary>
    public Task DrainAsync()
    {
        var inFlight = _inFlight;
        _inFlight = null;
        return inFlight ?? Task.CompletedTask;
    }

    /// <summary>
    /// At the link's close: lets the large record in flight reach the kernel (a send of it had returned, as if it had),
    /// for at most <paramref name="bound"/> (a peer that does not read it by then loses it, as a dead one would).
    /// </summary>
    public void LetInFlightGo(TimeSpan bound)
    {
        try
        {
            Volatile.Read(ref _inFlight)?.Wait(bound);
        }
        catch (AggregateException)
        {
            // It failed: the link is closing anyway.
        }
    }

    /// <summary>
    /// A large record sealed into the buffer not in flight while the record before is still being written, then
    /// written once that one has gone, and left in flight. Its write does not take the caller's token: cancelled
    /// after the call returned, it would cut a record in two; a link that must stop is shut down instead, which
    /// fails the write.
    /// </summary>
    private async Task WriteRecordPipelinedAsync(byte type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        var size = HeaderSize + payload.Length + sealing!.TagSize;
        var buffer = BulkBuffer(_nextBulk, size);
        Fill(buffer.AsSpan(0, size), type, payload.Span);
        await DrainAsync().ConfigureAwait(false);
        _inFlight = stream.WriteAsync(buffer.AsMemory(0, size), CancellationToken.None).AsTask();
        _nextBulk ^= 1;
    }

    /// <summary>The frame in one write from a pooled buffer: sealed as a record, or (a small plain frame) joined to its header.</summary>
    private async Task WritePooledAsync(byte type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        var size = HeaderSize + payload.Length + (sealing?.TagSize ?? 0);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        ReleaseBulk();
        try
        {
            Fill(buffer.AsSpan(0, size), type, payload.Span);
            await stream.WriteAsync(buffer.AsMemory(0, size), cancel).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// One of the two buffers large records are sealed into, kept from one to the next while they follow each other (a
    /// relay of a fast writer's output, an image): a buffer rented for each went back to the pool from whatever thread
    /// finished the write, and the writer's thread then often found none and had a new one of 2 MiB made (perf,
    /// 2026-12-07: the collector busy on the copy's node during a relay). Writes are serialised (the link's write lock).
    /// </summary>
    private byte[] BulkBuffer(int which, int size)
    {
        if (_bulk[which] is { } kept && kept.Length >= size) return kept;
        if (_bulk[which] is { } small) ArrayPool<byte>.Shared.Return(small);
        return _bulk[which] = ArrayPool<byte>.Shared.Rent(Math.Max(size, HeaderSize + NodeLink.MaxPayload + MaxTagSize));
    }

    /// <summary>A small frame, after the record in flight has gone: the large ones stopped for now, and an idle link
    /// holds no MiB.</summary>
    private void ReleaseBulk()
    {
        for (var which = 0; which < _bulk.Length; which++)
        {
            if (_bulk[which] is not { } kept) continue;
            ArrayPool<byte>.Shared.Return(kept);
            _bulk[which] = null;
        }
    }

    private void Fill(Span<byte> frame, byte type, ReadOnlySpan<byte> payload)
    {
        WriteHeader(frame, type, payload.Length);
        if (sealing is null) payload.CopyTo(frame[HeaderSize..]);
        else sealing.Seal(frame[..HeaderSize], payload, frame[HeaderSize..]);
    }
}
