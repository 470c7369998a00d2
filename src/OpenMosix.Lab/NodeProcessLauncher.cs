namespace OpenMosix.Lab;

/// <summary>
/// Starts a long-lived program (omd, omdiscd) inside a node, detached: a session of its own, stdin /dev/null, stdout and
/// stderr appended to a log. It goes in through `om lab exec`, so it is a process of the node in every respect, and the
/// PID returned is the program's own (exec and nsenter replace themselves, they do not fork).
/// </summary>
public static class NodeProcessLauncher
{
    public static int Start(LabLayout layout, int node, string omPath, IReadOnlyList<string> command, string logPath)
    {
        NodeEntry.RequireNode(layout, node);
        var arguments = new List<string> { omPath, "lab", "exec", "--name", layout.Name.Value, $"{node}", "--" };
        arguments.AddRange(command);
        return DetachedProcess.Spawn(omPath, arguments, logPath);
    }

    /// <summary>`om daemon --config NODE/omd.toml`.</summary>
    public static IReadOnlyList<string> DaemonCommand(LabLayout layout, int node, string omPath) =>
        [omPath, "daemon", "--config", layout.NodeConfigFile(node)];

    /// <summary>`om discover -n -i eth0 --config NODE/omd.toml`: multicast discovery on the node's only interface, in
    /// the foreground, with the node's key and socket.</summary>
    public static IReadOnlyList<string> DiscoverCommand(LabLayout layout, int node, string omPath) =>
        [omPath, "discover", "-n", "-i", "eth0", "--config", layout.NodeConfigFile(node)];
}
