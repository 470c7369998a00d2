using System.Runtime.CompilerServices;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// A trip home pre-copied into the deputy: its copy runs on elsewhere while the deputy, in which nothing runs, is laid
/// out from the first round and filled round by round. Between rounds it is parked as a deputy (its signals are
/// forwarded, its death noticed); a failure at any step empties it into a plain deputy again.
/// </summary>
public sealed partial class CheckpointEngine
{
    /// <summary>The first round of a trip home: the deputy is laid out like its copy and filled with the round.</summary>
    public PrecopyTarget BeginPrecopyInto(int deputyPid, ImageReader round)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(round);
        return OnDeputy(deputyPid, trampoline => _restorer.BeginPrecopyInto(deputyPid, trampoline.Value, round, out trampoline.Value),
            (target, trampoline) => Parked(deputyPid, target, trampoline));
    }

    /// <summary>A later round of a trip home, into the deputy laid out by the first.</summary>
    public void ContinuePrecopyInto(PrecopyTarget target, ImageReader round)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(round);
        OnDeputy(target.Pid, _ =>
        {
            _restorer.ContinuePrecopy(target, round);
            return 0;
        }, (none, trampoline) => Parked(target.Pid, none, trampoline));
    }

    /// <summary>Completes the process in its deputy from the final image of the trip home (kept frozen if asked).</summary>
    public RestoredProcess FinishPrecopyInto(PrecopyTarget target, IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return RebuildDeputy(target.Pid, options, _ => _restorer.FinishPrecopy(target, source, options));
    }

    /// <summary>A trip home called off between rounds: the deputy gives back what the rounds mapped.</summary>
    public void AbandonPrecopyInto(PrecopyTarget target)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        _tracer.RunBrief(target.Pid, () =>
        {
            if (!_deputies.All.Contains(target.Pid)) return;
            _deputies.Repark(target.Pid, _deputies.Stop(target.Pid));
        });
    }

    /// <summary>
    /// Rebuilds the process into its stopped deputy (long work); on failure it stays a deputy, emptied again and
    /// parked in the trampoline the work left in its box.
    /// </summary>
    private RestoredProcess RebuildDeputy(int pid, RestoreOptions options, Func<StrongBox<ulong>, RestoredProcess> rebuild) =>
        OnDeputy(pid, rebuild, (restored, _) =>
        {
            _deputies.Forget(pid);
            // A SIGSTOP sent to it while it was rebuilt stops the process: when it is let go (Thaw), or now.
            if (!options.KeepFrozen && HeldStops.Take(pid)) Signals.Kill(pid, Signals.SIGSTOP);
            return KeptFrozenIfAsked(restored, options);
        });

    /// <summary>
    /// Work on a stopped deputy as long work, then <paramref name="done"/> with the trampoline the work left in its
    /// box (a layout moves it); when the work fails, the deputy is emptied into a plain deputy parked there.
    /// </summary>
    private T OnDeputy<T>(int pid, Func<StrongBox<ulong>, T> work, Func<T, ulong, T> done) => Long(() =>
    {
        // Its pages are filled between brief work for other processes; what is for this one waits (EndDeputy).
        using var busy = _tracer.Busy(pid);
        var trampoline = new StrongBox<ulong>(_deputies.Stop(pid));
        try
        {
            return done(work(trampoline), trampoline.Value);
        }
        catch (Exception e) when (e is not TraceeGoneException)
        {
            _logger.LogWarning("Restore into deputy {Pid} failed, it stays a deputy: {Error}", pid, e.Message);
            _deputies.Repark(pid, trampoline.Value);
            throw;
        }
    });

    /// <summary>Parks the deputy again between rounds, keeping what they built.</summary>
    private T Parked<T>(int pid, T result, ulong trampoline)
    {
        _deputies.Resume(pid, trampoline);
        return result;
    }
}
