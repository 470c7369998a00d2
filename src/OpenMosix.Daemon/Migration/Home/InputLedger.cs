namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// The input home relayed to a copy that the copy may not have read yet, by its offset in everything relayed this
/// stay: kept until the copy's node says it was read (its usage reports), so that a trip home can put back what the
/// copy left in its pipe or what was still on the way, and a trip that fails can send again what its node dropped.
/// </summary>
internal sealed class InputLedger(long start = 0)
{
    private readonly object _gate = new();
    private readonly Queue<byte[]> _chunks = new();
    // Offset of the first chunk kept, and how much of it is known read.
    private long _base = start, _read = start;
    private long _sent = start;
    // What the copy's node says it wrote into the copy's stdin: the window counts from there.
    private long _written = start;

    /// <summary>How much input may be relayed ahead of what the copy's node wrote into its stdin: what a trip home can
    /// find queued on the link, in front of its messages, and what that node may have to hold.</summary>
    public const long Window = 4 << 20;

    /// <summary>Bytes relayed so far this stay.</summary>
    public long Sent
    {
        get
        {
            lock (_gate) return _sent;
        }
    }

    /// <summary>Whether the end of input was relayed.</summary>
    public bool Ended { get; private set; }

    public void Record(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            _chunks.Enqueue(bytes.ToArray());
            _sent += bytes.Length;
        }
    }

    public void RecordEnd() => Ended = true;

    /// <summary>The copy's node wrote the first <paramref name="written"/> bytes into its stdin: room for more.</summary>
    public void Delivered(long written)
    {
        lock (_gate)
        {
            _written = Math.Max(_written, Math.Min(written, _sent));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits at most <paramref name="wait"/> for the window to have room; false if it has none yet.</summary>
    public bool WaitForRoom(TimeSpan wait)
    {
        lock (_gate)
        {
            if (_sent - _written < Window) return true;
            Monitor.Wait(_gate, wait);
            return _sent - _written < Window;
        }
    }

    /// <summary>The copy has read the first <paramref name="read"/> bytes: they will never be needed again (and were
    /// written, so they count for the window too).</summary>
    public void Acknowledge(long read)
    {
        Delivered(read);
        lock (_gate)
        {
            while (_chunks.TryPeek(out var chunk) && _base + chunk.Length <= read)
            {
                _base += chunk.Length;
                _chunks.Dequeue();
            }
            _read = Math.Max(_read, Math.Min(read, _sent));
        }
    }

    /// <summary>Everything relayed from offset <paramref name="from"/> on; throws when that was already forgotten.</summary>
    public byte[] From(long from)
    {
        lock (_gate)
        {
            if (from < _read || from > _sent) throw new InvalidOperationException($"input from byte {from} on is not kept (bytes {_read} to {_sent} are)");
            var bytes = new byte[_sent - from];
            var at = _base;
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
}
