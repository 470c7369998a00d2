namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Signals sent to a deputy with no relay to forward them on: between its making and its relay's start, or while home
/// waits for a new omd on its copy's node to resume the copy. They are
/// held, in order, and forwarded once the copy is relayed (again); dropped with the wait if it is not (the
/// copy was killed there, as the process is restarted or lost).
/// </summary>
internal sealed class SignalsOnHold
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, List<ArrivedSignal>> _held = [];

    /// <summary>Signals to <paramref name="pid"/> are held from now on.</summary>
    public void Open(int pid)
    {
        lock (_gate) _held.TryAdd(pid, []);
    }

    /// <summary>Holds <paramref name="signal"/> if <paramref name="pid"/>'s copy waits to be resumed; false otherwise.</summary>
    public bool TryHold(int pid, ArrivedSignal signal)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(pid, out var signals)) return false;
            signals.Add(signal);
            return true;
        }
    }

    /// <summary>The wait is over: what was held, in the order it came.</summary>
    public IReadOnlyList<ArrivedSignal> Close(int pid)
    {
        lock (_gate) return _held.Remove(pid, out var signals) ? signals : [];
    }
}
