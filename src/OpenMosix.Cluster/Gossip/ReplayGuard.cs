namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// Refuses packets that were already seen (sequence not above the last accepted one from that sender) and packets
/// whose timestamp lies further than <see cref="Window"/> from the local clock, so a captured packet cannot be
/// replayed later nor prepared in advance. Sequences belong to the sender, not to a key: a packet captured under a
/// retired key is as much a replay as one under the current key.
/// </summary>
public sealed class ReplayGuard(TimeSpan window, Func<DateTimeOffset> clock)
{
    private readonly Dictionary<ushort, ulong> _lastAccepted = [];

    public TimeSpan Window { get; } = window > TimeSpan.Zero
        ? window
        : throw new ArgumentOutOfRangeException(nameof(window), "the replay window must be positive");

    /// <summary>Checks a sequence without remembering it: cheap enough to run before decrypting.</summary>
    public bool IsReplay(ushort sender, ulong sequence) =>
        _lastAccepted.TryGetValue(sender, out var last) && sequence <= last;

    public bool IsStale(DateTimeOffset timestamp)
    {
        var skew = clock() - timestamp;
        return skew > Window || skew < -Window;
    }

    /// <summary>Remembers an accepted packet; only called once it was decrypted and its contents verified.</summary>
    public void Accept(ushort sender, ulong sequence)
    {
        if (!_lastAccepted.TryGetValue(sender, out var last) || sequence > last)
            _lastAccepted[sender] = sequence;
    }

    /// <summary>Forgets a sender, e.g. when the map drops it.</summary>
    public void Forget(ushort sender) => _lastAccepted.Remove(sender);
}
