namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// What one output pump sent home lately, so that a new omd taking over home (after the last one died without a
/// drain) can be sent again what never reached it: the bytes on the link when it broke, lost with the dead omd's
/// socket. At least the last <see cref="Kept"/> bytes are kept, more than a link can hold in flight (both ends' TCP
/// buffers and the two frames a link queues); home says from which count it needs them (<see cref="Protocol.Resume"/>).
/// They are kept in one ring that grows up to <see cref="Capacity"/> bytes and is then written over: a copy of each
/// chunk as an array of its own lived through 16 MiB of output, long enough for the runtime to move each one from
/// generation to generation (a relay of 512 MiB copied most of its bytes twice more in the collector). The pump reads
/// its pipe straight into the ring (<see cref="Room"/>, <see cref="Took"/>) and sends the frame from there: a copy
/// into the ring was a tenth of the copy's node's CPU in a relay of 512 MiB (perf, 2026-12-07).
/// </summary>
internal sealed class SentOutput(long start = 0)
{
    public const int Kept = 16 << 20;
    /// <summary>Kept and room for one more read of a frame's worth, so that a read never writes over the last Kept bytes.</summary>
    public const int Capacity = Kept + NodeLink.MaxPayload;
    private const int FirstRing = 64 * 1024;

    private readonly Lock _gate = new();
    /// <summary>Byte <c>o</c> of the output sits at <c>1 + o % RingSize</c>; the first byte of the array is spare, so
    /// that every stretch of the ring has a byte before it a frame's descriptor number can borrow (<see cref="Room"/>).</summary>
    private byte[] _ring = [0];
    /// <summary>The offsets of the first byte kept and just past the last.</summary>
    private long _start = start, _end = start;

    private int RingSize => _ring.Length - 1;

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

    /// <summary>Keeps a copy of <paramref name="bytes"/>, sent after everything kept so far.</summary>
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
                var offset = Slot(at);
                var take = Math.Min(bytes.Length, _ring.Length - offset);
                bytes[..take].CopyTo(_ring.AsSpan(offset));
                bytes = bytes[take..];
                at += take;
            }
            _end = end;
            _start = Math.Max(_start, _end - RingSize);
        }
    }

    /// <summary>
    /// Where the next bytes sent go, to be read into straight from the pipe: the ring after what it keeps, up to
    /// <paramref name="most"/> bytes (fewer at the ring's end), preceded by one byte of the ring that the frame's
    /// descriptor number may take while the frame is sent, if it is put back after (<see cref="Took"/> first). Only
    /// the pump writes into the ring, and what is kept is read (<see cref="After"/>) only once that pump has ended.
    /// </summary>
    public Memory<byte> Room(int most)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(most);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(most, Capacity - Kept);
        lock (_gate)
        {
            Grow((int)Math.Min(Capacity, _end - _start + most));
            var offset = Slot(_end);
            return _ring.AsMemory(offset - 1, 1 + Math.Min(most, _ring.Length - offset));
        }
    }

    /// <summary>The first <paramref name="bytes"/> of the last <see cref="Room"/> now hold what is sent next.</summary>
    public void Took(int bytes)
    {
        lock (_gate)
        {
            _end += bytes;
            _start = Math.Max(_start, _end - RingSize);
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
                var offset = Slot(delivered + done);
                var take = Math.Min(bytes.Length - done, _ring.Length - offset);
                _ring.AsSpan(offset, take).CopyTo(bytes.AsSpan(done));
                done += take;
            }
            return bytes;
        }
    }

    private int Slot(long at) => 1 + (int)(at % Math.Max(1, RingSize));

    /// <summary>A ring of at least <paramref name="needed"/> bytes (doubling, at most <see cref="Capacity"/>), holding what was kept.</summary>
    private void Grow(int needed)
    {
        if (RingSize >= needed) return;
        var size = Math.Max(RingSize, FirstRing);
        while (size < needed) size = Math.Min(Capacity, size * 2);
        var ring = new byte[size + 1];
        for (var at = _start; at < _end;)
        {
            var from = Slot(at);
            var to = 1 + (int)(at % size);
            var take = (int)Math.Min(_end - at, Math.Min(_ring.Length - from, ring.Length - to));
            _ring.AsSpan(from, take).CopyTo(ring.AsSpan(to));
            at += take;
        }
        _ring = ring;
    }
}
