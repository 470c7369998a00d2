namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// What one output pump sent home lately, so that a new omd taking over home (after the last one died without a
/// drain) can be sent again what never reached it: the bytes on the link when it broke, lost with the dead omd's
/// socket. The last <see cref="Kept"/> bytes are kept, more than a link can hold in flight (both ends' TCP buffers
/// and the two frames a link queues); home says from which count it needs them (<see cref="Protocol.Resume"/>).
/// They are kept in one ring that grows up to <see cref="Kept"/> bytes and is then written over: a copy of each
/// chunk as an array of its own lived through 16 MiB of output, long enough for the runtime to move each one from
/// generation to generation (a relay of 512 MiB copied most of its bytes twice more in the collector).
/// </summary>
internal sealed class SentOutput(long start = 0)
{
    public const int Kept = 16 << 20;
    private const int FirstRing = 64 * 1024;

    private readonly Lock _gate = new();
    private byte[] _ring = [];
    /// <summary>The offsets of the first byte kept and just past the last: byte <c>o</c> sits at <c>o % ring length</c>.</summary>
    private long _start = start, _end = start;

    /// <summary>Bytes handed to the link so far (sent, or on their way).</summary>
    public long Total
    {
        get
        {
            lock (_gate) return _end;
        }
    }

    /// <summary>Whether the pump read the end of its pipe (its end still has to reach home if the link broke first).</summary>
    public bool Ended { get; private set; }

    /// <summary>Whether home has been told of that end.</summary>
    public bool EndSent { get; set; }

    public void Record(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            var end = _end + bytes.Length;
            // Only the last Kept bytes can stay.
            if (bytes.Length > Kept) bytes = bytes[^Kept..];
            Grow((int)Math.Min(Kept, _end - _start + bytes.Length));
            var at = end - bytes.Length;
            while (bytes.Length > 0)
            {
                var offset = (int)(at % _ring.Length);
                var take = Math.Min(bytes.Length, _ring.Length - offset);
                bytes[..take].CopyTo(_ring.AsSpan(offset));
                bytes = bytes[take..];
                at += take;
            }
            _end = end;
            _start = Math.Max(_start, _end - _ring.Length);
        }
    }

    public void RecordEnd() => Ended = true;

    /// <summary>What was sent after the first <paramref name="delivered"/> bytes; null when that is no longer kept
    /// (or home claims more than was ever sent).</summary>
    public byte[]? After(long delivered)
    {
        lock (_gate)
        {
            if (delivered < _start || delivered > _end) return null;
            var bytes = new byte[_end - delivered];
            for (var done = 0; done < bytes.Length;)
            {
                var offset = (int)((delivered + done) % _ring.Length);
                var take = Math.Min(bytes.Length - done, _ring.Length - offset);
                _ring.AsSpan(offset, take).CopyTo(bytes.AsSpan(done));
                done += take;
            }
            return bytes;
        }
    }

    /// <summary>A ring of at least <paramref name="needed"/> bytes (doubling, at most <see cref="Kept"/>), holding what was kept.</summary>
    private void Grow(int needed)
    {
        if (_ring.Length >= needed) return;
        var size = Math.Max(_ring.Length, FirstRing);
        while (size < needed) size = Math.Min(Kept, size * 2);
        var ring = new byte[size];
        for (var at = _start; at < _end;)
        {
            var from = (int)(at % _ring.Length);
            var to = (int)(at % size);
            var take = (int)Math.Min(_end - at, Math.Min(_ring.Length - from, size - to));
            _ring.AsSpan(from, take).CopyTo(ring.AsSpan(to));
            at += take;
        }
        _ring = ring;
    }
}
