using System.Net.Sockets;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The stream under a link's TLS. TLS cuts a frame into records of 16 KiB and would read and write each with a system
/// call of its own; here reads and writes are each buffered on their own (a link's reader and writer run at once), so
/// records cross the socket in large batches. A read returns what is buffered or what one read of the socket brings,
/// never waiting for more (<see cref="BufferedStream"/> would wait to fill a request, and a link waiting for an
/// answer would hang). Once
/// <see cref="BufferWrites"/> is set, writes reach the socket at <see cref="Flush"/>, which the link calls after every
/// frame; before, during the TLS handshake, they go straight through (the handshake does not flush).
/// </summary>
internal sealed class BufferedDuplexStream(NetworkStream socket, int bufferSize) : Stream
{
    private readonly byte[] _reads = new byte[bufferSize];
    private int _readStart, _readEnd;
    private readonly BufferedStream _writes = new(socket, bufferSize);

    /// <summary>Set after the handshake: from then on the link flushes what it writes.</summary>
    public bool BufferWrites { get; set; }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _reads.Length) return socket.Read(buffer);
            (_readStart, _readEnd) = (0, socket.Read(_reads));
        }
        return TakeBuffered(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _reads.Length) return await socket.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            (_readStart, _readEnd) = (0, await socket.ReadAsync(_reads, cancellationToken).ConfigureAwait(false));
        }
        return TakeBuffered(buffer.Span);
    }

    private int TakeBuffered(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _readEnd - _readStart);
        _reads.AsSpan(_readStart, count).CopyTo(destination);
        _readStart += count;
        return count;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (BufferWrites) _writes.Write(buffer);
        else socket.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        BufferWrites ? _writes.WriteAsync(buffer, cancellationToken) : socket.WriteAsync(buffer, cancellationToken);

    public override void Flush() => _writes.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _writes.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    // What is still buffered is dropped: every frame was flushed when it was sent, and a link being closed has
    // nothing more to say. Disposing the buffers would flush them into a socket that may be gone.
    protected override void Dispose(bool disposing)
    {
        if (disposing) socket.Dispose();
        base.Dispose(disposing);
    }
}
