using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Checkpoint.Tracing;

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
        return OnDeputy(deputyPid, trampoline => _restorer.BeginPrecopyInto(deputyPid, trampoline.Value, round, out trampoline.Value));
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
        });
    }

    /// <summary>Completes the process in its deputy from the final image of the trip home (kept frozen if asked).</summary>
    public RestoredProcess FinishPrecopyInto(PrecopyTarget target, IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() =>
        {
            using var busy = _tracer.Busy(target.Pid);
            var trampoline = _deputies.Stop(target.Pid);
            try
            {
                var restored = _restorer.FinishPrecopy(target, source, options);
                _deputies.Forget(target.Pid);
                return KeptFrozenIfAsked(restored, options);
            }
            catch (Exception e) when (e is not TraceeGoneException)
            {
                _logger.LogWarning("Pre-copied restore into deputy {Pid} failed, it stays a deputy: {Error}", target.Pid, e.Message);
                _deputies.Repark(target.Pid, trampoline);
                throw;
            }
        });
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
    /// Work on a stopped deputy as long work: it is parked again afterwards in the trampoline the work leaves in
    /// its box (a layout moves it), or emptied into a plain deputy there when the work fails.
    /// </summary>
    private T OnDeputy<T>(int pid, Func<StrongBox<ulong>, T> work) => Long(() =>
    {
        using var busy = _tracer.Busy(pid);
        var trampoline = new StrongBox<ulong>(_deputies.Stop(pid));
        try
        {
            var result = work(trampoline);
            _deputies.Resume(pid, trampoline.Value);
            return result;
        }
        catch (Exception e) when (e is not TraceeGoneException)
        {
            _logger.LogWarning("Pre-copy home into deputy {Pid} failed, it stays a deputy: {Error}", pid, e.Message);
            _deputies.Repark(pid, trampoline.Value);
            throw;
        }
    });
}
