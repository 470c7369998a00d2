namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The tail of a byte stream from some offset on, kept as the chunks it came in, so that what followed a count can
/// be given again: input a copy may not have read (<see cref="Home.InputLedger"/>), keys typed at a moved job that
/// were still on the link when it ended (<see cref="Home.TypedInput"/>). Output a dead omd never got is kept in a ring
/// instead (<see cref="Guest.SentOutput"/>), which its pump reads the pipe into: a chunk per read cost the relay a
/// copy and the collector's time. Not thread-safe: its owner locks.
/// </summary>
internal sealed class KeptBytes(long start = 0)
{
    private readonly Queue<byte[]> _chunks = new();

    /// <summary>Offset of the first byte kept.</summary>
    public long Start { get; private set; } = start;

    /// <summary>Offset just past the last byte: everything the stream carried so far.</summary>
    public long End { get; private set; } = start;

    public void Add(ReadOnlySpan<byte> bytes)
    {
        _chunks.Enqueue(bytes.ToArray());
        End += bytes.Length;
    }

    /// <summary>Forgets every chunk that ends at or before <paramref name="offset"/>.</summary>
    public void ForgetBefore(long offset)
    {
        while (_chunks.TryPeek(out var chunk) && Start + chunk.Length <= offset)
        {
            Start += chunk.Length;
            _chunks.Dequeue();
        }
    }

    /// <summary>Everything from <paramref name="from"/> (at least <see cref="Start"/>, at most <see cref="End"/>) on.</summary>
    public byte[] From(long from)
    {
        var bytes = new byte[End - from];
        var at = Start;
        var done = 0;
        foreach (var chunk in _chunks)
        {
            var skip = (int)Math.Clamp(from - at, 0, chunk.Length);
            chunk.AsSpan(skip).CopyTo(bytes.AsSpan(done));
            done += chunk.Length - skip;
            at += chunk.Length;
        }
        return bytes;
    }
}
