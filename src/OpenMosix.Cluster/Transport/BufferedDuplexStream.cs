using System.Net.Sockets;
using OpenMosix.Linux;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The socket of a secured link, under its TLS handshake and then its records. Reads are buffered, so that a frame's
/// header and small frames do not each cost a system call; a read at least as large as the buffer, when nothing is
/// buffered, goes straight into the caller's memory (a large record's payload). A read returns what is buffered or
/// what one read of the socket brings, never waiting for more (<see cref="BufferedStream"/> would wait to fill a
/// request, and a link waiting for an answer would hang). Writes go straight to the socket: each is a whole record.
/// </summary>
internal sealed class BufferedDuplexStream(NetworkStream socket, int bufferSize) : Stream
{
    private readonly byte[] _reads = new byte[bufferSize];
    private int _readStart, _readEnd;

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

    /// <summary>What is buffered, or else what one read of the socket brings straight into <paramref name="buffer"/>,
    /// with nothing read ahead: the header of a large record, whose payload the next read takes straight from the
    /// socket (read ahead, a quarter of each MiB went through this buffer too).</summary>
    public ValueTask<int> ReadWithoutAheadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _readStart < _readEnd ? new(TakeBuffered(buffer.Span)) : socket.ReadAsync(buffer, cancellationToken);

    /// <summary>
    /// A blocking read on the caller's thread (<see cref="SocketWait"/>), by a consumer that has the link's socket to
    /// itself (<see cref="FrameReader.ReceiveDirect"/>): what is buffered, or else one read of the socket, through the
    /// buffer when <paramref name="ahead"/> and <paramref name="destination"/> is smaller than it, straight into
    /// <paramref name="destination"/> otherwise. 0 at the end of the stream.
    /// </summary>
    public int ReadWaiting(Span<byte> destination, bool ahead, long deadline)
    {
        if (_readStart == _readEnd)
        {
            if (!ahead || destination.Length >= _reads.Length) return SocketWait.Receive(socket.Socket.SafeHandle, destination, deadline);
            (_readStart, _readEnd) = (0, SocketWait.Receive(socket.Socket.SafeHandle, _reads, deadline));
        }
        return TakeBuffered(destination);
    }

    private int TakeBuffered(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _readEnd - _readStart);
        _reads.AsSpan(_readStart, count).CopyTo(destination);
        _readStart += count;
        return count;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer) => socket.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.WriteAsync(buffer, cancellationToken);

    public override void Flush()
    {
        // Nothing is held back.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) socket.Dispose();
        base.Dispose(disposing);
    }
}
