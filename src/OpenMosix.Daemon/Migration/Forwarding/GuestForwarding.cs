using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>Makes the forwarder of a copy just restored, when it has forwarded descriptors.</summary>
internal static class GuestForwarding
{
    /// <param name="homePaths">the home paths of the copy's home (its offer's): its calls on paths below them go home.</param>
    /// <param name="numberChanged">told of the numbers the copy gets while away and closes (<see cref="GuestForwarder.NumberChanged"/>).</param>
    /// <param name="homePid">the copy's PID at home (its offer's), its deputy's: a terminal stop it sends itself is made there.</param>
    /// <param name="socketsAtHome">its home makes the sockets it creates here (the offer's): its filter hands them over.</param>
    public static GuestForwarder? For(RestoredProcess restored, NodeLink link, ILogger logger, Checkpoint.CantMove.HomePaths? homePaths = null,
        bool socketsAtHome = false, Action<int, bool>? numberChanged = null, int homePid = 0) =>
        restored.ForwardListener is { } listener
            ? new GuestForwarder(restored.Pid, listener, restored.Forwarded, restored.ForwardMirrors, restored.ReservedFrom, restored.ReservedTop, link, logger)
            {
                HomePaths = homePaths ?? Checkpoint.CantMove.HomePaths.None,
                HomeGroup = restored.HomeGroup,
                SocketsAtHome = socketsAtHome,
                NumberChanged = numberChanged,
                HomePid = homePid,
            }
            : null;
}
