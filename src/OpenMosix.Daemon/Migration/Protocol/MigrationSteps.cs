namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>Where a migration link is in its conversation; both ends follow the same steps.</summary>
public enum MigrationPhase
{
    /// <summary>Nothing said yet: home offers.</summary>
    Start,
    /// <summary>The target weighs the offer.</summary>
    Offered,
    /// <summary>The target takes it: home sends pre-copy rounds or the final image.</summary>
    Accepted,
    /// <summary>A pre-copy round is on its way or being taken in.</summary>
    Precopying,
    /// <summary>The final image (the process frozen at home) is on its way or being restored.</summary>
    Final,
    /// <summary>The copy exists, frozen: home commits or calls it off.</summary>
    Restored,
    /// <summary>Home committed: the target lets the copy run.</summary>
    Committed,
    /// <summary>The copy runs; stdio, signals, terminal modes, move requests and its usage travel.</summary>
    Relaying,
    /// <summary>The copy is frozen and its image travels home; home says whether it took it.</summary>
    Returning,
    /// <summary>A pre-copy round of the trip home travels while the copy runs on; home takes it or says it stays.</summary>
    ReturnPrecopying,
    /// <summary>A new omd at home asked to take over the relay of a copy that runs there (<see cref="Resume"/>).</summary>
    Resuming,
    /// <summary>The copy ended and what it forked there runs on: their output, reports, signals and moves travel until
    /// the target closes the link.</summary>
    Outliving,
    /// <summary>Refused, failed, called off, exited or home again: the link has nothing more to say.</summary>
    Ended,
}

/// <summary>Which end of a migration link.</summary>
public enum Side
{
    Home,
    Guest,
}

/// <summary>
/// The order of a migration's control messages, in one table: in which phase which end may send which kind, and
/// the phase that follows. Images travel in Precopying, Final, ReturnPrecopying and Returning; stdio while Relaying
/// (not in here: they are frames of their own). Heartbeats are not in here either: the link itself sends them in
/// every phase when it has had nothing else to send, and drops them on arrival (<see cref="LinkLiveness"/>), so no
/// step waits for one and none can be taken for a message. A link that closes or is declared dead, at any step, ends
/// it; what that means is up to each end (docs/reliability.md).
/// </summary>
public static class MigrationSteps
{
    private static readonly (MigrationPhase From, Side Sender, Type Message, MigrationPhase To)[] Steps =
    [
        (MigrationPhase.Start, Side.Home, typeof(Offer), MigrationPhase.Offered),
        (MigrationPhase.Offered, Side.Guest, typeof(Accept), MigrationPhase.Accepted),
        (MigrationPhase.Offered, Side.Guest, typeof(Refuse), MigrationPhase.Ended),
        (MigrationPhase.Accepted, Side.Home, typeof(PrecopyRound), MigrationPhase.Precopying),
        (MigrationPhase.Precopying, Side.Guest, typeof(RoundTaken), MigrationPhase.Accepted),
        (MigrationPhase.Precopying, Side.Guest, typeof(Failed), MigrationPhase.Ended),
        (MigrationPhase.Accepted, Side.Home, typeof(Final), MigrationPhase.Final),
        (MigrationPhase.Accepted, Side.Home, typeof(PostcopyFinal), MigrationPhase.Final),
        (MigrationPhase.Final, Side.Guest, typeof(Restored), MigrationPhase.Restored),
        (MigrationPhase.Final, Side.Guest, typeof(Failed), MigrationPhase.Ended),
        (MigrationPhase.Restored, Side.Home, typeof(Commit), MigrationPhase.Committed),
        (MigrationPhase.Restored, Side.Home, typeof(Abort), MigrationPhase.Ended),
        (MigrationPhase.Committed, Side.Guest, typeof(Running), MigrationPhase.Relaying),
        (MigrationPhase.Start, Side.Home, typeof(Resume), MigrationPhase.Resuming),
        (MigrationPhase.Resuming, Side.Guest, typeof(Resumed), MigrationPhase.Relaying),
        (MigrationPhase.Resuming, Side.Guest, typeof(Refuse), MigrationPhase.Ended),
        // The copy had ended before home read its exit (the link broke under it): its node remembered the status.
        (MigrationPhase.Resuming, Side.Guest, typeof(Exited), MigrationPhase.Ended),
        (MigrationPhase.Relaying, Side.Home, typeof(ForwardSignal), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(LockChanged), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(MoveFailed), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(ComeHome), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(TerminalModesChanged), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(CopyJobState), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(MoveRequest), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(Usage), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(InputWritten), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(ForkedThere), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(SignalForked), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(MoveForked), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(ForkedMoved), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(Exited), MigrationPhase.Ended),
        (MigrationPhase.Relaying, Side.Guest, typeof(Outlived), MigrationPhase.Outliving),
        (MigrationPhase.Outliving, Side.Guest, typeof(ForkedThere), MigrationPhase.Outliving),
        (MigrationPhase.Outliving, Side.Guest, typeof(ForkedMoved), MigrationPhase.Outliving),
        (MigrationPhase.Outliving, Side.Home, typeof(SignalForked), MigrationPhase.Outliving),
        (MigrationPhase.Outliving, Side.Home, typeof(MoveForked), MigrationPhase.Outliving),
        (MigrationPhase.Relaying, Side.Guest, typeof(PagesHeld), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(CheckpointFollows), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(CheckpointCounts), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(CheckpointStored), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(CheckpointAsk), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Home, typeof(CheckpointGo), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(PrecopyRound), MigrationPhase.ReturnPrecopying),
        (MigrationPhase.ReturnPrecopying, Side.Home, typeof(RoundTaken), MigrationPhase.Relaying),
        (MigrationPhase.ReturnPrecopying, Side.Home, typeof(Stay), MigrationPhase.Relaying),
        (MigrationPhase.Relaying, Side.Guest, typeof(ImageFollows), MigrationPhase.Returning),
        (MigrationPhase.Returning, Side.Guest, typeof(InputTaken), MigrationPhase.Returning),
        (MigrationPhase.Returning, Side.Home, typeof(WelcomeHome), MigrationPhase.Ended),
        // Signals that reached the copy after its image, sent home after the welcome (the copy is gone by then).
        (MigrationPhase.Ended, Side.Guest, typeof(SignalsAfterImage), MigrationPhase.Ended),
        (MigrationPhase.Returning, Side.Home, typeof(Stay), MigrationPhase.Relaying),
        // Home's answer to a checkpoint (or to its ask) may cross its come-home: it changes nothing there.
        (MigrationPhase.ReturnPrecopying, Side.Home, typeof(CheckpointStored), MigrationPhase.ReturnPrecopying),
        (MigrationPhase.Returning, Side.Home, typeof(CheckpointStored), MigrationPhase.Returning),
        (MigrationPhase.ReturnPrecopying, Side.Home, typeof(CheckpointGo), MigrationPhase.ReturnPrecopying),
        (MigrationPhase.Returning, Side.Home, typeof(CheckpointGo), MigrationPhase.Returning),
    ];

    /// <summary>The kinds <paramref name="sender"/> may send in <paramref name="phase"/>.</summary>
    public static Type[] Allowed(MigrationPhase phase, Side sender) =>
        [.. Steps.Where(s => s.From == phase && s.Sender == sender).Select(s => s.Message)];

    /// <summary>The phase after <paramref name="sender"/> sent <paramref name="message"/> in <paramref name="phase"/>;
    /// null when that message has no place there.</summary>
    public static MigrationPhase? After(MigrationPhase phase, Side sender, Type message)
    {
        foreach (var step in Steps)
            if (step.From == phase && step.Sender == sender && step.Message == message) return step.To;
        return null;
    }
}
