using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Live migration by pre-copy: the home side starts a session on the running process, the target side lays out a
/// stub from the first round, fills it round by round and completes it from the final image.
/// </summary>
public sealed partial class CheckpointEngine
{
    /// <summary>
    /// Starts a pre-copy of a running process (the home side of a live migration): one short stop to set up write
    /// tracking, then it runs on while <see cref="PrecopySession.WriteRound"/> copies its memory. Null when this
    /// kernel cannot track writes. Refuses with <see cref="CantMoveException"/> as a checkpoint would.
    /// </summary>
    public PrecopySession? StartPrecopy(int pid, bool forward = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        forward &= !_forwarding.IsGuest(pid);
        var report = CantMoveAnalyzer.Analyze(pid, forward, _forwarding.OwnFilters(pid), placeholders: _forwarding.Of(pid), homePaths: HomePaths, ownTrace: _forwarding.IsAdopted(pid));
        if (!report.CanMove) throw new CantMoveException(report);
        return Long(() =>
        {
            using var busy = _tracer.Busy(pid);
            return WithWatchReleased(pid, () => PrecopySession.Start(pid, _logger, forward, _forwarding.Of(pid), HomePaths));
        });
    }

    /// <summary>The target side of a pre-copy: a stub laid out from round 1 and filled with its pages.</summary>
    public PrecopyTarget BeginPrecopyRestore(ImageReader round, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() => _restorer.BeginPrecopy(round, options));
    }

    /// <summary>A later pre-copy round into the stub.</summary>
    public void ContinuePrecopyRestore(PrecopyTarget target, ImageReader round)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(round);
        Long(() =>
        {
            _restorer.ContinuePrecopy(target, round);
            return 0;
        });
    }

    /// <summary>Completes a pre-copied process from the final image (the checkpoint taken with the session).</summary>
    public RestoredProcess FinishPrecopyRestore(PrecopyTarget target, IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() =>
        {
            try
            {
                return KeptFrozenIfAsked(_restorer.FinishPrecopy(target, source, options), options);
            }
            catch
            {
                Restorer.AbandonPrecopy(target);
                throw;
            }
        });
    }

    /// <summary>Kills the stub of a pre-copy that will not be completed (no-op once completed).</summary>
    public void AbandonPrecopyRestore(PrecopyTarget target)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        _tracer.Run(() => Restorer.AbandonPrecopy(target));
    }
}
