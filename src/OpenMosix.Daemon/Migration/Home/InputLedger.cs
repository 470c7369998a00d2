namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// The input home relayed to a copy that the copy may not have read yet, by its offset in everything relayed this
/// stay: kept until the copy's node says it was read (its usage reports), so that a trip home can put back what the
/// copy left in its pipe or what was still on the way, and a trip that fails can send again what its node dropped.
/// </summary>
internal sealed class InputLedger(long start = 0)
{
    private readonly object _gate = new();
    private readonly KeptBytes _chunks = new(start);
    // How much of what is kept is known read.
    private long _read = start;
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
            lock (_gate) return _chunks.End;
        }
    }

    /// <summary>Whether the end of input was relayed.</summary>
    public bool Ended { get; private set; }

    public void Record(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            _chunks.Add(bytes);
        }
    }

    public void RecordEnd() => Ended = true;

    /// <summary>The copy's node wrote the first <paramref name="written"/> bytes into its stdin: room for more.</summary>
    public void Delivered(long written)
    {
        lock (_gate)
        {
            _written = Math.Max(_written, Math.Min(written, _chunks.End));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits at most <paramref name="wait"/> for the window to have room; false if it has none yet.</summary>
    public bool WaitForRoom(TimeSpan wait)
    {
        lock (_gate)
        {
            if (_chunks.End - _written < Window) return true;
            Monitor.Wait(_gate, wait);
            return _chunks.End - _written < Window;
        }
    }

    /// <summary>The copy has read the first <paramref name="read"/> bytes: they will never be needed again (and were
    /// written, so they count for the window too).</summary>
    public void Acknowledge(long read)
    {
        Delivered(read);
        lock (_gate)
        {
            _chunks.ForgetBefore(read);
            _read = Math.Max(_read, Math.Min(read, _chunks.End));
        }
    }

    /// <summary>Everything relayed from offset <paramref name="from"/> on; throws when that was already forgotten.</summary>
    public byte[] From(long from)
    {
        lock (_gate)
        {
            if (from < _read || from > _chunks.End) throw new InvalidOperationException($"input from byte {from} on is not kept (bytes {_read} to {_chunks.End} are)");
            return _chunks.From(from);
        }
    }
}
