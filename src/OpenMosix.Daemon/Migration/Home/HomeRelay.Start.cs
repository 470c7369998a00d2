using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>How a relay begins: after a move, or on a new link after a takeover of home.</summary>
internal sealed partial class HomeRelay
{
    /// <summary>The copy runs on <paramref name="target"/>: the process is now remote, and its relay starts.</summary>
    public static void Begin(HomeSide home, ManagedProcess process, ushort target, Conversation talk, Restored restored,
        ReturnTrip trip, MoveOnRequests moveOn, System.Net.IPEndPoint? endpoint = null, PostcopyHold? postcopy = null)
    {
        // A deputy keeps its descriptors: the relay takes them from it.
        var descriptors = OpenDescriptors(process.Pid, restored);
        home.Registry.Update(process, p =>
        {
            p.State = ProcessState.Remote;
            p.Where = target;
            p.Migrations++;
            p.RemotePid = restored.RemotePid;
        });
        // Descriptors forwarded home live in this omd's deputy: such a process cannot be taken over.
        // Nor can one moved by post-copy (not yet: a new omd would find the original, not a deputy; its copy dies with
        // the link either way).
        var counts = restored.Forwarded is { Count: > 0 } || endpoint is null || postcopy is not null ? null : Saved(home, process, target, endpoint, restored);
        // Also when nothing is forwarded: the copy's calls about its children and parent are served here.
        var forwarder = Forwarding.HomeForwarder.Start(process.Pid, restored.Forwarded ?? [], talk.Link, home.Deputies.CloseDescriptor, home.Logger, home.Deputies,
            home.HomePaths, home.SocketsAtHome);
        Start(home, process, talk, descriptors, trip, moveOn, forwarder, counts, 0, postcopy: postcopy);
    }

    /// <summary>
    /// A new omd took the process over from one that died without a drain (<see cref="HomeTakeover"/>): its deputy
    /// traced again, its copy's node relaying on <paramref name="talk"/>, which has sent again what
    /// <paramref name="counts"/> says was not delivered; its input goes on after the <paramref name="inputReceived"/>
    /// bytes that node has; with <paramref name="ledger"/> (this omd's last relay of it) what follows them is sent again
    /// first.
    /// </summary>
    public static void Resume(HomeSide home, ManagedProcess process, Conversation talk, SavedAway saved, DeliveredCounts counts, long inputReceived,
        ReturnTrip trip, MoveOnRequests moveOn, InputLedger? ledger = null)
    {
        var restored = new Restored(saved.RemotePid, saved.Outputs, saved.Input);
        // Nothing forwarded (such a process is not taken over), but its calls about its children are served here.
        var forwarder = Forwarding.HomeForwarder.Start(process.Pid, [], talk.Link, home.Deputies.CloseDescriptor, home.Logger, home.Deputies, home.HomePaths, home.SocketsAtHome);
        Start(home, process, talk, OpenDescriptors(process.Pid, restored), trip, moveOn, forwarder, counts, inputReceived, ledger);
    }

    private static void Start(HomeSide home, ManagedProcess process, Conversation talk, Dictionary<int, SafeFileHandle> descriptors,
        ReturnTrip trip, MoveOnRequests moveOn, Forwarding.HomeForwarder? forwarder, DeliveredCounts? counts, long inputBase, InputLedger? carried = null,
        PostcopyHold? postcopy = null)
    {
        var terminal = descriptors.Values.FirstOrDefault(d => Terminal.ReadModes(d) is not null);
        var state = new RelayState(talk, process) { Terminal = terminal, Postcopy = postcopy };
        home.Relays.Add(state);
        // Sent to the deputy while the copy waited to be resumed: they follow the output sent again.
        foreach (var signal in home.SignalsOnHold.Close(process.Pid))
            state.Forward(signal, signal.Number == Signals.SIGWINCH && terminal is { IsClosed: false } ? Terminal.ReadSize(terminal) : null);
        var relay = new HomeRelay(home, process, talk, trip, moveOn) { Route = state };
        _ = Task.Run(() => relay.RunAsync(descriptors, forwarder, counts, inputBase, carried, postcopy), CancellationToken.None);
    }

    /// <summary>The process away goes into the state file a new omd takes it over from; its delivered counts start.</summary>
    private static DeliveredCounts? Saved(HomeSide home, ManagedProcess process, ushort target, System.Net.IPEndPoint endpoint, Restored restored)
    {
        if (home.Away is not { } away || restored.RelayedOutputs.Any(fd => fd >= DeliveredCounts.MaxFd)) return null;
        try
        {
            var counts = away.Counts(process.Pid, fresh: true);
            away.Add(new SavedAway(Processes.ManagedStateFile.Saved(process), target, endpoint.ToString(), restored.RemotePid,
                restored.RelayedOutputs, restored.RelaysInput));
            return counts;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HomeLog.NotSavedAway(home.Logger, process.Pid, e.Message);
            return null;
        }
    }

    /// <summary>Copies of the original's descriptors the target relays (its stdio), taken before it becomes a deputy.</summary>
    private static Dictionary<int, SafeFileHandle> OpenDescriptors(int pid, Restored restored)
    {
        var handles = new Dictionary<int, SafeFileHandle>();
        using var pidfd = PidFd.Open(pid);
        foreach (var fd in restored.RelayedOutputs)
        {
            handles[fd] = pidfd.GetFd(fd);
            // A pipe of the default 64 KiB took each 1 MiB frame of a fast writer's output in 16 writes, this omd's
            // relay blocking and woken for each (perf of home's omd in bench/migration/relay.sh: a third of its CPU
            // in context switches and wakeups). Grown to a frame's size (never shrunk), a frame goes in one write
            // while the reader keeps up. The pipe is the process's own: it keeps the larger size, as if it had asked.
            Descriptors.TryGrowPipe(handles[fd], NodeLink.MaxPayload);
        }
        if (restored.RelaysInput) handles[0] = pidfd.GetFd(0);
        return handles;
    }
}
