using Microsoft.Win32.SafeHandles;
using OpenMosix.Admin;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>One moved process's link, and a pending request to bring it home.</summary>
internal sealed class RelayState(Conversation talk, ManagedProcess process)
{
    public Conversation Talk { get; } = talk;
    public ManagedProcess Process { get; } = process;
    /// <summary>The process's terminal at home, if its stdio is one: takes the modes the copy sets, gives its size.</summary>
    public SafeFileHandle? Terminal { get; init; }
    public TaskCompletionSource<MigrationResult>? Homecoming { get; set; }
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
