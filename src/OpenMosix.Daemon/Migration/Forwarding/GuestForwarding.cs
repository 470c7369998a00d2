using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>Makes the forwarder of a copy just restored, when it has forwarded descriptors.</summary>
internal static class GuestForwarding
{
    public static GuestForwarder? For(RestoredProcess restored, NodeLink link, ILogger logger) =>
        restored.ForwardListener is { } listener
            ? new GuestForwarder(restored.Pid, listener, restored.Forwarded, restored.ForwardMirrors, restored.ReservedFrom, restored.ReservedTop, link, logger)
            : null;
}
