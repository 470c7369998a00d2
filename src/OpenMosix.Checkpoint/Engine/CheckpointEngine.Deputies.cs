using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// The deputy a moved process leaves at home: made from the frozen original, its signals forwarded, ended with its
/// copy's status, or rebuilt into the process again when it comes home.
/// </summary>
public sealed partial class CheckpointEngine
{
    /// <summary>Raised on the tracer thread for every signal sent to a deputy (kept from it) for forwarding.</summary>
    public event Action<int, ArrivedSignal>? DeputySignal
    {
        add => _deputies.SignalArrived += value;
        remove => _deputies.SignalArrived -= value;
    }

    /// <summary>Raised on the tracer thread when a deputy died at home (SIGKILL), already collected.</summary>
    public event Action<int, ExitStatus>? DeputyDied
    {
        add => _deputies.Died += value;
        remove => _deputies.Died -= value;
    }

    /// <summary>
    /// A process kept frozen after its checkpoint becomes a deputy: emptied of its memory, parked, its PID, parent
    /// and descriptors kept; signals sent to it are reported through <see cref="DeputySignal"/> instead of acting.
    /// </summary>
    public void MakeDeputy(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () =>
        {
            if (!_frozen.Remove(pid)) throw new InvalidOperationException($"process {pid} is not kept frozen by this engine");
            try
            {
                _deputies.Make(pid, _pendingAtImage.GetValueOrDefault(pid) ?? []);
                // Moved while stopped: the deputy stops too, so `ps` and the shell at home see the process stopped
                // while its copy is. Its group is still stopped as the kernel sees it (only SIGCONT ends that), so
                // its parent is not told of a stop a second time; SIGCONT to it, or to its copy, resumes both.
                // A SIGSTOP sent while it was frozen for its trip is in its image (the copy starts stopped): the
                // deputy stops with it here, and its parent, told of no stop yet, is told now. One sent after its
                // image was taken met the deputy's making: parked, the deputy got it again (DeputyKeeper.Park), and
                // stops and forwards it to the copy as it does any signal sent to it.
                _stopsWhileFrozen.Remove(pid);
                _pendingAtImage.Remove(pid);
                if (_frozenStopped.Remove(pid, out var stoppedBy)) _deputies.FollowCopy(pid, stoppedBy);
            }
            catch (Exception e) when (KilledTracee.Is(e))
            {
                // Killed while it waited frozen for its copy to start (the OOM killer on a full node): there is no
                // deputy to make, and its parent must get its death.
                KilledTracee.Release(pid, KilledTracee.IsOurChild(pid), _logger);
                throw new TraceeGoneException(pid, $"process {pid} was killed while frozen for its move");
            }
        });
    }

    /// <summary>
    /// Takes over a deputy an earlier omd made and left when it died without a drain: traced again from this engine's
    /// tracer thread and parked, its signals reported through <see cref="DeputySignal"/> as before.
    /// </summary>
    public void AdoptDeputy(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () => _deputies.Adopt(pid));
    }

    /// <summary>The deputy exits with exactly <paramref name="status"/> (exit code, or death by that signal).</summary>
    public void EndDeputy(int pid, ExitStatus status)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () => _deputies.End(pid, status));
    }

    /// <summary>
    /// Brings a moved process home: rebuilds <paramref name="source"/> (the image of its copy) into its deputy, so
    /// its PID, parent and descriptors never changed. On failure the deputy stays a deputy and the error is rethrown.
    /// </summary>
    public RestoredProcess RestoreInto(int deputyPid, IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return RebuildDeputy(deputyPid, options, trampoline => _restorer.RestoreInto(deputyPid, trampoline.Value, source, options, out trampoline.Value));
    }

    private void WatchDeputies()
    {
        try
        {
            WatchExits();
            _deputies.Watch();
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException)
        {
            _logger.LogWarning("Watching deputies failed: {Error}", e.Message);
        }
    }
}
