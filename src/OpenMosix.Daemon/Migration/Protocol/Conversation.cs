namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>
/// One end of a migration link and the phase it is in: what it sends and receives must fit
/// <see cref="MigrationSteps"/>, and moves it on. Sending out of turn (a move request while the image travels home)
/// is refused like a broken link, with a <see cref="LinkException"/>; receiving out of turn is the peer's protocol
/// error. Sends may come from several threads (the relay's pumps and signal forwarding); receives from one.
/// </summary>
public sealed class Conversation(NodeLink link, Side side, MigrationPhase phase = MigrationPhase.Start)
{
    private readonly Lock _gate = new();
    private MigrationPhase _phase = phase;

    public NodeLink Link { get; } = link;
    public Side Side { get; } = side;
    private Side Peer => Side == Side.Home ? Side.Guest : Side.Home;

    public MigrationPhase Phase
    {
        get
        {
            lock (_gate) return _phase;
        }
    }

    public Task SendAsync(MigrationMessage message, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
        {
            _phase = MigrationSteps.After(_phase, Side, message.GetType())
                ?? throw new LinkException($"'{MessageWire.KindOf(message.GetType())}' cannot be sent while the migration is {Describe(_phase)}");
        }
        return MessageWire.SendAsync(Link, message, cancel);
    }

    /// <summary>The next frame, which must be a message the peer may send now.</summary>
    public async Task<MigrationMessage> ReceiveAsync(TimeSpan timeout)
    {
        var message = await MessageWire.ReceiveAsync(Link, timeout, Expected()).ConfigureAwait(false);
        Advance(message);
        return message;
    }

    /// <summary>A control frame received in a relay loop, which must be a message the peer may send now.</summary>
    public MigrationMessage Read(Frame frame)
    {
        var message = MessageWire.Parse(frame, Link.PeerNode, Expected());
        Advance(message);
        return message;
    }

    /// <summary>The image that was to go home did not get there whole: the copy runs on here, relayed as before.</summary>
    public void ReturnAbandoned()
    {
        lock (_gate)
            if (_phase == MigrationPhase.Returning) _phase = MigrationPhase.Relaying;
    }

    private Type[] Expected()
    {
        lock (_gate) return MigrationSteps.Allowed(_phase, Peer);
    }

    private void Advance(MigrationMessage message)
    {
        lock (_gate)
        {
            // Checked against the phase the frame was parsed for; a send in between only ever loops in Relaying.
            _phase = MigrationSteps.After(_phase, Peer, message.GetType()) ?? _phase;
        }
    }

    private static string Describe(MigrationPhase phase) => phase.ToString().ToLowerInvariant();
}
