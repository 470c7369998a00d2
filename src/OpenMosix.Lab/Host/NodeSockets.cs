namespace OpenMosix.Lab.Host;

/// <summary>
/// The TCP sockets a node's killed processes leave behind. The kernel keeps them (FIN_WAIT, LAST_ACK) and retransmits
/// their FINs for minutes; a machine that lost power has none, so once the node is revived its peers must not receive
/// a goodbye from before the crash. Destroyed with `ss -K` inside the node's network namespace.
/// </summary>
public static class NodeSockets
{
    public static void DestroyAllTcp(string netnsFile)
    {
        var nsenter = ToolPath.Find("nsenter");
        ToolRun.Run("destroy the killed node's TCP sockets", nsenter, $"--net={netnsFile}", "--", "ss", "-K", "-t", "-a");
    }
}
