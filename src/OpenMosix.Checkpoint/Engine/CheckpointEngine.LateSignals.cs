using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Tracing;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Signals that reach a process kept frozen after its image was read. The image holds what was pending when it was
/// read; what comes later waits in the kernel's queues of the frozen process, and a move that succeeds kills that
/// process (a copy that went home or on) and with it the signal. The queues are noted when the image is read, so
/// that what came since can be told apart and carried to wherever the process runs next (docs/reliability.md).
/// </summary>
public sealed partial class CheckpointEngine
{
    // Kept frozen after a checkpoint: the signal numbers queued when its image was read, shared and per thread.
    private readonly Dictionary<int, List<int>> _pendingAtImage = [];

    /// <summary>Notes what was queued for <paramref name="pid"/> as its image was read (tracer thread): what the image
    /// holds, not what the queues hold once the dump is over (a signal that came while its pages were copied, seconds
    /// for a big process, is not in the image and must be carried like any later one).</summary>
    private void NotePendingAtImage(int pid, bool keptFrozen, IReadOnlyList<int> inImage)
    {
        if (keptFrozen) _pendingAtImage[pid] = [.. inImage];
        else _pendingAtImage.Remove(pid);
    }

    /// <summary>
    /// The signals that reached <paramref name="pid"/>, kept frozen by a checkpoint, since its image was read, in the
    /// order of its queues (shared first); each queued instance of a real-time signal counts. Empty when none came,
    /// when it was not frozen by a checkpoint here, or when it is gone.
    /// </summary>
    public IReadOnlyList<int> SignalsSinceImage(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            if (!_frozen.Contains(pid) || !_pendingAtImage.TryGetValue(pid, out var before)) return (IReadOnlyList<int>)[];
            List<int> now;
            try
            {
                now = Queued(pid);
            }
            catch (Exception e) when (e is SyscallException or IOException or TraceeGoneException)
            {
                return [];
            }
            // What was queued at the image is in the image: each of those instances is taken out once.
            var left = new List<int>(before);
            return [.. now.Where(signal => !left.Remove(signal))];
        });
    }

    /// <summary>For tests: called just before <see cref="EndFrozen"/> ends the process, with its PID (omd.toml
    /// `checkpoint.test_hold_before_end_file` holds it there; a unit test signals it there).</summary>
    public Action<int>? BeforeEnd { get; init; }

    /// <summary>
    /// Ends <paramref name="pid"/>, kept frozen by a checkpoint after a move that succeeded (a copy that went home, or
    /// on), and returns the signals that reached it since its image was read, as <see cref="SignalsSinceImage"/> but
    /// read when no signal can reach it any more: it is ended by an exit_group with its exit traced, and its queues are
    /// read at the exit stops (<see cref="TracedExit"/>), so a signal sent to it up to the end is returned, and one sent
    /// later is dropped by the kernel, not queued. Killed instead (the old way, a signal sent in the last moment lost)
    /// only when the call cannot be made in it; killed with none returned when it was not frozen by a checkpoint here.
    /// </summary>
    public IReadOnlyList<int> EndFrozen(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        BeforeEnd?.Invoke(pid);
        return _tracer.RunBrief(pid, () =>
        {
            if (!_frozen.Contains(pid) || !_pendingAtImage.TryGetValue(pid, out var before))
            {
                var (mine, others) = LetGoOfFrozen(pid);
                Signals.Kill(pid, Signals.SIGKILL);
                CollectEnded(pid, mine, others);
                return (IReadOnlyList<int>)[];
            }
            var (ours, threads) = LetGoOfFrozen(pid);
            var now = new List<int>();
            try
            {
                var options = Ptrace.O_TRACESYSGOOD | PrivilegeReader.SeizeOptions(pid);
                now.InsertRange(0, TracedExit.Run(pid, threads, options, (tid, main) => now.AddRange(Queued(tid, shared: main, [tid]))));
            }
            catch (Exception e) when (e is InjectionException or SyscallException or IOException)
            {
                _logger.LogWarning("Process {Pid} is killed, not ended with its exit traced (a signal sent to it in this moment may be lost): {Error}", pid, e.Message);
                now = TryQueued(pid);
                try
                {
                    Signals.Kill(pid, Signals.SIGKILL);
                }
                catch (ProcessAccessException)
                {
                    // Gone meanwhile.
                }
            }
            catch (TraceeGoneException)
            {
                // Killed meanwhile (by the OOM killer): what its queues held went with it.
            }
            CollectEnded(pid, ours, threads);
            // What was queued at the image is in the image: each of those instances is taken out once.
            var left = new List<int>(before);
            return [.. now.Where(signal => !left.Remove(signal))];
        });
    }

    private static List<int> TryQueued(int pid)
    {
        try
        {
            return Queued(pid);
        }
        catch (Exception e) when (e is SyscallException or IOException or TraceeGoneException)
        {
            return [];
        }
    }

    /// <summary>Signal numbers queued for the process (shared) and each of its threads, in queue order.</summary>
    private static List<int> Queued(int pid) => Queued(pid, shared: true, [pid, .. ThreadGroup.OtherThreads(pid)]);

    /// <summary>Signal numbers queued for the process of <paramref name="pid"/> (with <paramref name="shared"/>), then for
    /// each of <paramref name="threads"/>, in queue order.</summary>
    private static List<int> Queued(int pid, bool shared, IEnumerable<int> threads)
    {
        var queued = new List<int>();
        if (shared)
            foreach (var info in Ptrace.PeekSignals(pid, shared: true)) queued.Add(BitConverter.ToInt32(info, 0));
        foreach (var tid in threads)
        {
            try
            {
                foreach (var info in Ptrace.PeekSignals(tid, shared: false)) queued.Add(BitConverter.ToInt32(info, 0));
            }
            catch (SyscallException)
            {
                // A thread that ended meanwhile took its own queue with it.
            }
        }
        return queued;
    }
}
