using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>One moved process's link, and a pending request to bring it home. It is also the way to what the copy
/// forked on its node (remote fork): home's signals and moves for those go over it, as long as it lasts.</summary>
internal sealed class RelayState(Conversation talk, ManagedProcess process) : IForkedRoute
{
    public Conversation Talk { get; } = talk;
    public ManagedProcess Process { get; } = process;
    /// <summary>The process's terminal at home, if its stdio is one: takes the modes the copy sets, gives its size.</summary>
    public SafeFileHandle? Terminal { get; init; }
    /// <summary>Moved by post-copy: the original kept whole until its copy holds every page.</summary>
    public PostcopyHold? Postcopy { get; init; }
    public TaskCompletionSource<MigrationResult>? Homecoming { get; set; }

    private readonly List<(ArrivedSignal Signal, byte[]? Size)> _held = [];
    private bool _returning;
    private readonly Dictionary<int, TaskCompletionSource<MigrationResult>> _forkedMoves = [];
    private string? _ended;

    /// <summary>
    /// Asks the copy's node to send the process home. Under the same lock as <see cref="Forward"/>, so that no signal
    /// is put on the link after this request: it would reach the copy frozen, or in the middle of its image.
    /// </summary>
    public Task AskHomeAsync(ComeHome request)
    {
        lock (_held)
        {
            _returning = true;
            Trip = new TripHome();
            return Talk.SendAsync(request);
        }
    }

    /// <summary>The trip home under way: its clock and the pre-copy rounds taken so far.</summary>
    public TripHome? Trip { get; private set; }

    /// <summary>
    /// Forwards a signal sent to the deputy, unless the process is on its way home: from the moment it is asked
    /// for, a signal is held back (it would meet the copy frozen, or land in the middle of its image) until the
    /// trip ends, and then goes to wherever the process runs (<see cref="ReleaseHeld"/>).
    /// </summary>
    public void Forward(ArrivedSignal signal, byte[]? size)
    {
        lock (_held)
        {
            if (_returning || Talk.Phase != MigrationPhase.Relaying)
            {
                _held.Add((signal, size));
                return;
            }
            try
            {
                _ = Talk.SendAsync(new ForwardSignal(signal.Number, size, signal.FromProcess));
            }
            catch (LinkException)
            {
                // The link is gone: the relay's end settles the process.
            }
        }
    }

    /// <summary>
    /// Its deputy died at home (SIGKILL, which no tracer intercepts): the copy is sent SIGKILL as any signal to the deputy
    /// would be, so that its node kills it at once and reports its end as for any exit. False when that cannot be said
    /// now (the process is on its way home, or its copy still fetches its memory): closing the link ends the copy then.
    /// </summary>
    public bool KillCopy()
    {
        lock (_held)
        {
            if (_returning || Talk.Phase != MigrationPhase.Relaying || Postcopy is { Released: false }) return false;
            try
            {
                _ = Talk.SendAsync(new ForwardSignal(Linux.Signals.SIGKILL));
                return true;
            }
            catch (LinkException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// The process was locked or unlocked at home: its copy is told, as a signal would be, unless the process is on its
    /// way home; then the last change waits for the trip's end and goes to the copy if it stays (one that came home
    /// has home's entry, which has the change already).
    /// </summary>
    public void ChangeLock(bool locked)
    {
        lock (_held)
        {
            if (_returning || Talk.Phase != MigrationPhase.Relaying)
            {
                _lockHeld = locked;
                return;
            }
            try
            {
                _ = Talk.SendAsync(new LockChanged(locked));
            }
            catch (LinkException)
            {
                // The link is gone: the relay's end settles the process.
            }
        }
    }

    private bool? _lockHeld;

    /// <summary>A signal for a process the copy forked on its node (<see cref="SignalForked"/>): null once on its way,
    /// else why not. Not while the copy travels home: its node takes no such message then.</summary>
    public string? SignalForked(int pid, int signal)
    {
        lock (_held)
        {
            if (_returning || Talk.Phase is not (MigrationPhase.Relaying or MigrationPhase.Outliving)) return "the process that forked it is moving; try again";
            try
            {
                _ = Talk.SendAsync(new Protocol.SignalForked(pid, signal));
                return null;
            }
            catch (LinkException e)
            {
                return $"the link to its node is gone ({e.Message})";
            }
        }
    }

    string? IForkedRoute.Signal(int pid, int signal) => SignalForked(pid, signal);

    int IForkedRoute.Deputy => Process.Pid;

    /// <summary>`om migrate` at home of a process the copy forked on its node: that node is asked to move it
    /// (<see cref="MoveForked"/>), and its answer (<see cref="Answered"/>) ends the task. One move per process at a
    /// time; not while the copy travels home; failed with the link's end if no answer came by then.</summary>
    public Task<MigrationResult> MoveAsync(int pid, string target, bool? precopy)
    {
        lock (_held)
        {
            if (_ended is not null) throw new MigrationException($"process {pid} is out of reach: {_ended}");
            if (_returning || Talk.Phase is not (MigrationPhase.Relaying or MigrationPhase.Outliving))
                throw new MigrationException("the process that forked it is moving; try again") { Refused = true };
            if (_forkedMoves.ContainsKey(pid)) throw new MigrationException($"process {pid} is being moved already") { Refused = true };
            var done = new TaskCompletionSource<MigrationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            _forkedMoves[pid] = done;
            try
            {
                _ = Talk.SendAsync(new MoveForked(pid, target, precopy));
            }
            catch (LinkException e)
            {
                _forkedMoves.Remove(pid);
                throw new MigrationException($"the link to its node is gone ({e.Message})", e);
            }
            return done.Task;
        }
    }

    /// <summary>The copy's node answered a <see cref="MoveForked"/>.</summary>
    public void Answered(ForkedMoved answer)
    {
        TaskCompletionSource<MigrationResult>? done;
        lock (_held) _forkedMoves.Remove(answer.Pid, out done);
        if (answer.Result is { } result) done?.TrySetResult(result);
        else done?.TrySetException(new MigrationException(answer.Error ?? "not moved") { Refused = answer.Refused });
    }

    /// <summary>The link ended: moves still waiting for their answer fail with <paramref name="why"/> (whether the
    /// process moved is then for `om ps` to tell), and no more are asked for.</summary>
    public void EndForked(string why)
    {
        List<TaskCompletionSource<MigrationResult>> waiting;
        lock (_held)
        {
            _ended = why;
            waiting = [.. _forkedMoves.Values];
            _forkedMoves.Clear();
        }
        foreach (var done in waiting) done.TrySetException(new MigrationException($"no answer from node {Talk.Link.PeerNode}: {why}"));
    }

    /// <summary>After the trip home: held signals go to the process here (it came home) or on to its copy (it stays).</summary>
    public void ReleaseHeld(bool cameHome)
    {
        List<(ArrivedSignal Signal, byte[]? Size)> held;
        bool? lockHeld;
        lock (_held)
        {
            held = [.. _held];
            _held.Clear();
            _returning = false;
            (lockHeld, _lockHeld) = (_lockHeld, null);
        }
        if (!cameHome && lockHeld is { } locked) ChangeLock(locked);
        foreach (var (signal, size) in held)
        {
            if (!cameHome)
            {
                Forward(signal, size);
                continue;
            }
            try
            {
                Linux.Signals.Kill(Process.Pid, signal.Number);
            }
            catch (Linux.ProcessAccessException)
            {
                // It ended at home meanwhile: its parent hears of that, as of any process.
            }
        }
    }
}

/// <summary>A trip home as it goes: since when, and what its pre-copy rounds carried.</summary>
internal sealed class TripHome
{
    public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();
    public int Rounds { get; set; }
    public long RoundBytes { get; set; }
}

/// <summary>The processes of this node that run elsewhere, by PID, each with its relay.</summary>
internal sealed class RelayTable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, RelayState> _relays = [];

    public void Add(RelayState relay)
    {
        lock (_gate) _relays[relay.Process.Pid] = relay;
    }

    public RelayState? Find(int pid)
    {
        lock (_gate) return _relays.GetValueOrDefault(pid);
    }

    public RelayState? Remove(int pid)
    {
        lock (_gate) return _relays.Remove(pid, out var relay) ? relay : null;
    }

    /// <summary>Marks the process as on its way home; throws when it is not away or already on its way.</summary>
    public RelayState BeginHomecoming(int pid, TaskCompletionSource<MigrationResult> homecoming)
    {
        lock (_gate)
        {
            if (!_relays.TryGetValue(pid, out var relay)) throw new MigrationException($"process {pid} is not away from home");
            if (relay.Homecoming is not null) throw new MigrationException($"process {pid} is already on its way home");
            relay.Homecoming = homecoming;
            return relay;
        }
    }

    /// <summary>The homecoming failed: its waiter hears why, and another may be asked for.</summary>
    public void FailHomecoming(RelayState relay, Exception why)
    {
        lock (_gate)
        {
            relay.Homecoming?.TrySetException(why);
            relay.Homecoming = null;
        }
    }
}
