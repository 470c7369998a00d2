namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// What one output pump sent home lately, so that a new omd taking over home (after the last one died without a
/// drain) can be sent again what never reached it: the bytes on the link when it broke, lost with the dead omd's
/// socket. The last <see cref="Kept"/> bytes are kept, more than a link can hold in flight (both ends' TCP buffers
/// and the two frames a link queues); home says from which count it needs them (<see cref="Protocol.Resume"/>).
/// </summary>
internal sealed class SentOutput(long start = 0)
{
    public const int Kept = 16 << 20;

    private readonly Lock _gate = new();
    private readonly KeptBytes _kept = new(start);

    /// <summary>Bytes handed to the link so far (sent, or on their way).</summary>
    public long Total
    {
        get
        {
            lock (_gate) return _kept.End;
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
            _kept.Add(bytes);
            // Whole chunks go once the newer ones hold Kept bytes.
            _kept.ForgetBefore(_kept.End - Kept);
        }
    }

    public void RecordEnd() => Ended = true;

    /// <summary>What was sent after the first <paramref name="delivered"/> bytes; null when that is no longer kept
    /// (or home claims more than was ever sent).</summary>
    public byte[]? After(long delivered)
    {
        lock (_gate) return delivered < _kept.Start || delivered > _kept.End ? null : _kept.From(delivered);
    }
}
