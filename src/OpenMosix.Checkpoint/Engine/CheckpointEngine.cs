using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Checkpoint and restore of processes and all their threads, from outside, with ptrace. Owns the tracer thread: every
/// ptrace request and waitpid for a tracee runs there. Processes kept frozen stay seized until the engine is
/// disposed, which lets them run on.
/// </summary>
public sealed partial class CheckpointEngine : IDisposable
{
    private readonly TracerThread _tracer = new();
    private readonly ILogger _logger;
    private readonly Dumper _dumper;
    private readonly Restorer _restorer;
    private readonly HashSet<int> _frozen = [];
    // Processes kept frozen that were in a group-stop when frozen: its signal.
    private readonly Dictionary<int, int> _frozenStopped = [];
    // Kept frozen by a checkpoint and stopped by a signal meanwhile: what Thaw owes the process and its watcher.
    private readonly Dictionary<int, StopWhileFrozen> _stopsWhileFrozen = [];

    /// <param name="Resend">the SIGSTOP was taken out of the way of an injected call: sent again once let go.</param>
    /// <param name="Signal">the stop it entered while being seized (the kernel tells its parent nothing of it once it
    /// is let go): reported to its job watch instead; 0 when none.</param>
    private readonly record struct StopWhileFrozen(bool Resend, int Signal);
    private readonly DeputyKeeper _deputies;
    private readonly Dictionary<int, TaskCompletionSource<ExitStatus>> _exitWatches = [];
    private readonly ForwardedProcesses _forwarding = new();
    private bool _disposed;

    public CheckpointEngine(ILoggerFactory? loggers = null)
    {
        var factory = loggers ?? NullLoggerFactory.Instance;
        _logger = factory.CreateLogger<CheckpointEngine>();
        _dumper = new Dumper(factory.CreateLogger<Dumper>(), _tracer);
        _restorer = new Restorer(factory.CreateLogger<Restorer>(), _tracer);
        // A copy's stand-in session leader ends by itself once the copy and its group are gone: reaped as it does.
        _restorer.HolderMade = pid => _exitWatches[pid] = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _deputies = new DeputyKeeper(factory.CreateLogger<DeputyKeeper>());
        _tracer.Idle = WatchDeputies;
        _tracer.IdleWanted = () => _exitWatches.Count > 0 || _deputies.All.Count > 0;
    }

    /// <summary>Restores fill anonymous memory with UFFDIO_COPY where possible; off forces process_vm_writev (tests).</summary>
    internal bool FillPagesWithUserFaults
    {
        get => _restorer.FillWithUserFaults;
        set => _restorer.FillWithUserFaults = value;
    }

    /// <summary>Directories whose files are this node's own (omd.toml's home paths): a migration forwards descriptors of
    /// files below them instead of reopening them on the target.</summary>
    public HomePaths HomePaths { get; init; } = HomePaths.None;

    /// <summary>Why the process cannot be moved, found from /proc without touching it.</summary>
    /// <param name="forwarding">asked for a migration: descriptors home can serve are listed as forwarded, not refused.</param>
    public CantMoveReport AnalyzeCantMove(int pid, bool forwarding = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return CantMoveAnalyzer.Analyze(pid, forwarding && !_forwarding.IsGuest(pid), _forwarding.OwnFilters(pid), placeholders: _forwarding.Of(pid), homePaths: HomePaths, ownTrace: _forwarding.IsAdopted(pid));
    }

    /// <summary>
    /// Writes the image of <paramref name="pid"/> to <paramref name="sink"/>. Refuses with
    /// <see cref="CantMoveException"/> before touching the process; on any later failure the process resumes as if
    /// nothing happened (unless it is already gone) and the error is rethrown.
    /// </summary>
    public DumpResult Checkpoint(int pid, IImageSink sink, DumpOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        // A copy running here forwards what home left at home; nothing it opened here can be left behind.
        if (_forwarding.IsGuest(pid)) options = options with { ForwardDescriptors = false };
        if (options.ForwardDescriptors) options = options with { HomePaths = HomePaths };
        var report = CantMoveAnalyzer.Analyze(pid, options.ForwardDescriptors, _forwarding.OwnFilters(pid), placeholders: _forwarding.Of(pid), homePaths: HomePaths, ownTrace: _forwarding.IsAdopted(pid));
        if (!report.CanMove) throw new CantMoveException(report);
        if (options.Forwarded is null && _forwarding.Of(pid) is { } forwarded) options = options with { Forwarded = forwarded };
        return Long(() =>
        {
            // Brief work and the idle watch run while its pages are copied: they leave it alone (a waitpid there would
            // take its exit from the dump).
            using var busy = _tracer.Busy(pid);
            var wasStopped = IsStopped(pid);
            var result = WithWatchReleased(pid, () => _dumper.Dump(pid, sink, options, frozen => _frozen.Add(frozen)));
            var stoppedMeanwhile = !wasStopped && result.StoppedBy != 0 ? result.StoppedBy : 0;
            if (options.After == AfterDump.KeepFrozen && (result.StopHeld || stoppedMeanwhile != 0))
                _stopsWhileFrozen[pid] = new StopWhileFrozen(result.StopHeld, stoppedMeanwhile);
            else _stopsWhileFrozen.Remove(pid);
            // Kept frozen in a group-stop: the deputy made of it goes back into that stop (MakeDeputy).
            if (options.After == AfterDump.KeepFrozen && result.StoppedBy != 0) _frozenStopped[pid] = result.StoppedBy;
            else _frozenStopped.Remove(pid);
            NotePendingAtImage(pid, options.After == AfterDump.KeepFrozen, result.PendingInImage);
            return result;
        });
    }

    /// <summary>Rebuilds the process of an image as a new process (with its original PID when that is free).</summary>
    public RestoredProcess Restore(IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() => KeptFrozenIfAsked(_restorer.Restore(source, options), options));
    }

    /// <summary>
    /// Lets a process kept frozen (by a checkpoint or a restore with KeepFrozen) run on exactly where it was, and
    /// lets go of it.
    /// </summary>
    public void Thaw(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () =>
        {
            if (!_frozen.Remove(pid)) throw new InvalidOperationException($"process {pid} is not kept frozen by this engine");
            _frozenStopped.Remove(pid);
            _pendingAtImage.Remove(pid);
            Finish(pid);
            ThreadGroup.DetachOthers(pid);
            KilledTracee.Detach(pid, _logger);
            RetakeWatch(pid);
            // A stop sent while it was frozen: sent again (its parent's wait, the exit watch, sees it), or, one it
            // entered while being seized, which the kernel reports to no one now, told to its watcher here. One that
            // met a call injected since (a rebuild into its deputy on its trip home, a new stdin) is held as well.
            var held = HeldStops.Take(pid);
            if (_stopsWhileFrozen.Remove(pid, out var stop) && !stop.Resend && !held && _jobWatches.TryGetValue(pid, out var changed))
                changed(stop.Signal);
            if (held || stop.Resend) Signals.Kill(pid, Signals.SIGSTOP);
        });
    }

    /// <summary>
    /// A restored copy kept frozen gets its other threads now (see <see cref="RestoreOptions.WaitForOriginalThreadIds"/>).
    /// If that fails it cannot run as the program it was: it is killed, and the failure is the caller's.
    /// </summary>
    private void Finish(int pid)
    {
        if (_restorer.TakeDeferred(pid) is not { } finish) return;
        try
        {
            finish.Run(detach: false);
        }
        catch (Exception e) when (e is SyscallException or InjectionException or RestoreException or TraceeGoneException)
        {
            _logger.LogWarning("Threads of restored process {Pid} could not be made, it is killed: {Error}", pid, e.Message);
            var threads = ThreadGroup.OtherThreads(pid);
            Signals.Kill(pid, Signals.SIGKILL);
            ThreadGroup.CollectKilledThreads(threads);
            throw new RestoreException($"the threads of process {pid} could not be made: {e.Message}");
        }
    }

    /// <summary>A process kept frozen gets a new pipe as its stdin; returns its write end (<see cref="InputReplacement"/>).</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle ReplaceInput(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return OnFrozen(pid, () => InputReplacement.Replace(pid));
    }

    /// <summary>A process kept frozen gets a new pipe as descriptor <paramref name="fd"/> (an output); returns its read end.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle ReplaceOutput(int pid, int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return OnFrozen(pid, () => InputReplacement.ReplaceOutput(pid, fd));
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle OnFrozen(int pid, Func<Microsoft.Win32.SafeHandles.SafeFileHandle> work) =>
        _tracer.RunBrief(pid, () => _frozen.Contains(pid)
            ? work()
            : throw new InvalidOperationException($"process {pid} is not kept frozen by this engine"));

    /// <summary>A process restored with <see cref="RestoreOptions.KeepFrozen"/> waits for <see cref="Thaw"/> or <see cref="KillFrozen"/>.</summary>
    private RestoredProcess KeptFrozenIfAsked(RestoredProcess restored, RestoreOptions options)
    {
        if (options.KeepFrozen) _frozen.Add(restored.Pid);
        _forwarding.Restored(restored, options.ForwardDescriptors);
        return restored;
    }

    /// <summary>Kills a process kept frozen (a restored copy whose migration was called off) and reaps it if it is ours.</summary>
    public void KillFrozen(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () =>
        {
            var (ours, threads) = LetGoOfFrozen(pid);
            Signals.Kill(pid, Signals.SIGKILL);
            CollectEnded(pid, ours, threads);
        });
    }

    /// <summary>Forgets <paramref name="pid"/> as kept frozen, about to be ended (tracer thread); returns whether it is a
    /// child of omd itself and its other threads, read before it ends.</summary>
    private (bool Ours, List<int> Threads) LetGoOfFrozen(int pid)
    {
        _frozen.Remove(pid);
        _frozenStopped.Remove(pid);
        _stopsWhileFrozen.Remove(pid);
        _pendingAtImage.Remove(pid);
        HeldStops.Take(pid);
        _restorer.TakeDeferred(pid);
        return (ProcFs.ReadStat(pid).PPid == Environment.ProcessId, ThreadGroup.OtherThreads(pid));
    }

    /// <summary>Collects a process ended while kept frozen (tracer thread): its threads' exits, its own if it is ours; its
    /// exit watch hears of a kill, however it was ended (the copy did not exit: it was called off or went on).</summary>
    private void CollectEnded(int pid, bool ours, List<int> threads)
    {
        ThreadGroup.CollectKilledThreads(threads);
        try
        {
            if (!CollectKilledAdopted(pid) && ours)
                while (Waiting.WaitPid(pid, Waiting.WALL).Stopped)
                {
                    // ptrace stops may still be reported before the exit
                }
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
            // Collected already: it was killed while it was being ended (TraceeGoneException).
        }
        if (_exitWatches.Remove(pid, out var watch)) watch.TrySetResult(new ExitStatus(0, Signals.SIGKILL));
    }

    /// <summary>
    /// After this long without a checkpoint or restore, give back the memory they leave behind (<see cref="IdleTrim"/>);
    /// null (the default) never trims. omd sets it; a one-shot `om checkpoint` has no use for it.
    /// </summary>
    public TimeSpan? TrimWhenIdle
    {
        get => _trimAfter;
        init
        {
            _trimAfter = value;
            _trim = value is { } quiet ? new IdleTrim(quiet) : null;
        }
    }

    private readonly TimeSpan? _trimAfter;
    private readonly IdleTrim? _trim;

    /// <summary>Long work on the tracer thread (a checkpoint, a restore, a pre-copy round), then the idle trim's clock.</summary>
    private T Long<T>(Func<T> work)
    {
        try
        {
            return _tracer.Run(work);
        }
        finally
        {
            _trim?.AfterWork();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _trim?.Dispose();
        _tracer.Run(() =>
        {
            foreach (var pid in _frozen)
            {
                try
                {
                    Finish(pid);
                    ThreadGroup.DetachOthers(pid);
                    KilledTracee.Detach(pid, _logger);
                }
                catch (Exception e) when (e is SyscallException or RestoreException)
                {
                    _logger.LogWarning("Could not let frozen process {Pid} run on: {Error}", pid, e.Message);
                }
            }
            _frozen.Clear();
            _frozenStopped.Clear();
            _stopsWhileFrozen.Clear();
            _pendingAtImage.Clear();
            // A deputy let go would run again at home while its copy runs remotely: it ends with the engine
            // (its copy ends when the node link closes).
            foreach (var pid in _deputies.All.ToList())
            {
                Signals.Kill(pid, Signals.SIGKILL);
                _deputies.Forget(pid);
            }
        });
        _tracer.Dispose();
    }
}
