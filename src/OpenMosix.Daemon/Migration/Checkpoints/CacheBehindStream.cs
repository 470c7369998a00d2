namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// Writes through to a checkpoint file and, every few MiB, has the kernel write what came before back to the disk and
/// drop it from the page cache (<see cref="PageCache"/>): a checkpoint is written once and read only for a merge or a
/// restart, and its cache is charged to home's memory, where a process ushered away for lack of memory left room.
/// </summary>
internal sealed class CacheBehindStream(FileStream file) : Stream
{
    private const long Window = 8 << 20;
    private long _dropped;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => file.Length;

    public override long Position
    {
        get => file.Position;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        file.Write(buffer);
        if (file.Position - _dropped >= Window) DropBehind();
    }

    public override void Flush() => file.Flush();

    /// <summary>Everything written so far: on the disk and out of the cache.</summary>
    public void DropBehind()
    {
        file.Flush();
        var end = file.Position;
        if (end <= _dropped) return;
        PageCache.WriteBackAndDrop(file.SafeFileHandle, _dropped, end - _dropped);
        _dropped = end;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
