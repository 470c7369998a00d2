namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>Reads <paramref name="length"/> bytes of a file from <paramref name="offset"/> on, as a stream of its own.</summary>
internal sealed class FileSlice : Stream
{
    private readonly FileStream _file;
    private readonly long _length;
    private long _left;

    public FileSlice(string path, long offset, long length)
    {
        _file = OpenAt(path, offset);
        _length = _left = length;
    }

    private static FileStream OpenAt(string path, long offset)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        file.Position = offset;
        return file;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_left == 0) return 0;
        var n = _file.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        _left -= n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
