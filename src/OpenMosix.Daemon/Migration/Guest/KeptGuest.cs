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
    private readonly GuestKeeper _keeper;
    private readonly int _copyPid;

    private KeptGuest(GuestKeeping keeping, GuestKeeper keeper, int copyPid)
    {
        _keeping = keeping;
        _keeper = keeper;
        _copyPid = copyPid;
    }

    /// <summary>Starts a keeper of <paramref name="pipes"/> (and <paramref name="listener"/>) for the copy, and saves
    /// it as <paramref name="saved"/> says (its keeper's PID filled in); null, logged, when no keeper could start.</summary>
    public static KeptGuest? Start(GuestKeeping keeping, SavedGuest saved, RelayPipes pipes, SafeFileHandle? listener, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keeping);
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(pipes);
        var held = saved.Outputs.Select(fd => pipes.Outputs[fd]).ToList();
        if (saved.Input) held.Add(pipes.Input!);
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
        keeping.State.Add(saved with { KeeperPid = keeper.Pid, KeeperStart = ProcessRegistry.StartTimeOf(keeper.Pid) ?? 0 });
        return new KeptGuest(keeping, keeper, saved.CopyPid);
    }

    /// <summary>What the state file says of a copy just committed here (its keeper not yet started).</summary>
    public static SavedGuest Describe(Protocol.Offer offer, int copyPid, RelayPipes pipes, Checkpoint.Restore.RestoredProcess restored)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(pipes);
        ArgumentNullException.ThrowIfNull(restored);
        return new SavedGuest(copyPid, ProcessRegistry.StartTimeOf(copyPid) ?? 0, offer.HomeNode, offer.Pid, 0, 0,
            [.. pipes.Outputs.Keys.Order()], pipes.Input is not null, pipes.InputIsTerminal, pipes.TerminalOutput,
            restored.ForwardListener is not null, restored.ReservedFrom, restored.ReservedTop, (uint)offer.Uid, offer.Command, offer.Decay, offer.Hint);
    }

    public void Dispose()
    {
        _keeper.End();
        _keeping.State.Remove(_copyPid);
    }
}
