namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// Refuses packets that were already seen (sequence not above the last accepted one from that sender) and packets
/// whose timestamp lies further than <see cref="Window"/> from the local clock, so a captured packet cannot be
/// replayed later nor prepared in advance.
/// </summary>
public sealed class ReplayGuard(TimeSpan window, Func<DateTimeOffset> clock)
{
    private readonly Dictionary<ushort, ulong> _lastAccepted = [];

    public TimeSpan Window { get; } = window > TimeSpan.Zero
        ? window
        : throw new ArgumentOutOfRangeException(nameof(window), "the replay window must be positive");

    /// <summary>Checks a packet without remembering it.</summary>
    public RejectReason? Check(ushort sender, ulong sequence, DateTimeOffset timestamp)
    {
        var skew = clock() - timestamp;
        if (skew > Window || skew < -Window)
            return RejectReason.Stale;
        if (_lastAccepted.TryGetValue(sender, out var last) && sequence <= last)
            return RejectReason.Replayed;
        return null;
    }

    /// <summary>Remembers an accepted packet; only called once its MAC and contents were verified.</summary>
    public void Accept(ushort sender, ulong sequence)
    {
        if (!_lastAccepted.TryGetValue(sender, out var last) || sequence > last)
            _lastAccepted[sender] = sequence;
    }

    /// <summary>Forgets a sender, e.g. when the map drops it.</summary>
    public void Forget(ushort sender) => _lastAccepted.Remove(sender);
}
