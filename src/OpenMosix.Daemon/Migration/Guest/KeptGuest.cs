using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>How this node keeps its guests for an omd started after this one dies without a drain: the om binary
/// that runs their keepers, the state file that names them, and how long a keeper waits for that omd.</summary>
public sealed record GuestKeeping(string OmPath, GuestStateFile State, TimeSpan Window)
{
    /// <summary>Guests are kept only when this process is the om binary (not a test host running omd's code).</summary>
    public static GuestKeeping? For(string? processPath, GuestStateFile state, TimeSpan window) =>
        processPath is not null && Path.GetFileName(processPath) is "om" or "omd" ? new GuestKeeping(processPath, state, window) : null;
}

/// <summary>
/// One guest held for the next omd for as long as it stays: its keeper holds omd's ends of its pipes and listener,
/// and the state file names it. Disposed when its stay ends here (ended, went home, killed): the keeper goes and
/// the entry with it.
/// </summary>
internal sealed class KeptGuest : IDisposable
{
    private readonly GuestKeeping _keeping;
    private readonly Lock _gate = new();
    private readonly RelayPipes _pipes;
    private readonly SafeFileHandle? _listener;
    private readonly SafeFileHandle? _tally;
    private readonly ILogger _logger;
    private GuestKeeper? _keeper;
    private SavedGuest _saved;

    private KeptGuest(GuestKeeping keeping, GuestKeeper keeper, SavedGuest saved, RelayPipes pipes, SafeFileHandle? listener, SafeFileHandle? tally,
        ILogger logger)
    {
        _tally = tally;
        _keeping = keeping;
        _keeper = keeper;
        _saved = saved;
        _pipes = pipes;
        _listener = listener;
        _logger = logger;
    }

    /// <summary>Starts a keeper of <paramref name="pipes"/> (and <paramref name="listener"/>) for the copy, and saves
    /// it as <paramref name="saved"/> says (its keeper's PID filled in); null, logged, when no keeper could start.
    /// <paramref name="tally"/>: the count of what was written into its stdin (<see cref="InputTally"/>), if kept.</summary>
    public static KeptGuest? Start(GuestKeeping keeping, SavedGuest saved, RelayPipes pipes, SafeFileHandle? listener, SafeFileHandle? tally, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keeping);
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(pipes);
        saved = saved with { InputTally = tally is not null };
        return StartKeeper(keeping, saved, pipes, listener, tally, logger) is { } started
            ? new KeptGuest(keeping, started.Keeper, started.Saved, pipes, listener, tally, logger)
            : null;
    }

    private static (GuestKeeper Keeper, SavedGuest Saved)? StartKeeper(GuestKeeping keeping, SavedGuest saved, RelayPipes pipes, SafeFileHandle? listener,
        SafeFileHandle? tally, ILogger logger)
    {
        var held = saved.Outputs.Select(fd => pipes.Outputs[fd]).ToList();
        if (saved.Input) held.Add(pipes.Input!);
        if (saved.InputTally) held.Add(tally!);
        if (saved.Listener) held.Add(listener!);
        GuestKeeper keeper;
        try
        {
            keeper = GuestKeeper.Start(keeping.OmPath, saved.CopyPid, held, keeping.Window);
        }
        catch (Exception e) when (e is SyscallException or IOException)
        {
            GuestLog.NotKept(logger, saved.CopyPid, e.Message);
            return null;
        }
        saved = saved with { KeeperPid = keeper.Pid, KeeperStart = ProcessRegistry.StartTimeOf(keeper.Pid) ?? 0 };
        keeping.State.Add(saved);
        return (keeper, saved);
    }

    /// <summary>
    /// The copy's input ended: its keeper's copy of the stdin pipe's write end would keep the copy from ever reading
    /// end of file, so a keeper of the rest takes its place (a copy without a keeper, if none can start, rather than
    /// a copy that waits for ever).
    /// </summary>
    public void InputEnded()
    {
        lock (_gate)
        {
            if (_keeper is null || !_saved.Input) return;
            var old = _keeper;
            // The tally stays: home sends again from it what the copy never got before the end.
            var started = StartKeeper(_keeping, _saved with { Input = false }, _pipes, _listener, _tally, _logger);
            old.End();
            if (started is null) _keeping.State.Remove(_saved.CopyPid);
            (_keeper, _saved) = started is { } s ? (s.Keeper, s.Saved) : (null, _saved);
        }
    }

    /// <summary>What the state file says of a copy just committed here (its keeper not yet started).</summary>
    public static SavedGuest Describe(Protocol.Offer offer, int copyPid, RelayPipes pipes, Checkpoint.Restore.RestoredProcess restored)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(pipes);
        ArgumentNullException.ThrowIfNull(restored);
        return new SavedGuest(copyPid, ProcessRegistry.StartTimeOf(copyPid) ?? 0, offer.HomeNode, offer.Pid, 0, 0,
            [.. pipes.Outputs.Keys.Order()], pipes.Input is not null, pipes.InputIsTerminal, pipes.TerminalOutput,
            restored.ForwardListener is not null, restored.ReservedFrom, restored.ReservedTop, (uint)offer.Uid, offer.Command, offer.Decay, offer.Hint,
            HomeGroup: restored.HomeGroup, Locked: offer.Locked, Request: offer.Request);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _keeper?.End();
            _keeper = null;
            _keeping.State.Remove(_saved.CopyPid);
        }
    }
}
