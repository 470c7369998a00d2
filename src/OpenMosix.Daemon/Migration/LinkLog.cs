namespace OpenMosix.Daemon.Migration;

/// <summary>What omd logs of a node link itself, the same whichever end opened it.</summary>
internal static partial class LinkLog
{
    /// <summary>Says so when <paramref name="link"/> speaks an older node protocol than this omd's latest (its peer is
    /// not upgraded yet, or stands for such a node in a test): <paramref name="direction"/> "to" a node this omd
    /// connected to, "from" one that connected to it.</summary>
    public static void WhenOlder(ILogger logger, NodeLink link, string direction)
    {
        if (link.Protocol < ProtocolRange.Latest) OlderPeer(logger, direction, link.PeerNode, link.Protocol, link.PeerVersions.Describe());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node link {Direction} node {Node} at node protocol {Version} (it speaks {Versions})")]
    private static partial void OlderPeer(ILogger logger, string direction, int node, int version, string versions);
}
