using OpenMosix.Lab.Host;
using OpenMosix.Linux;

namespace OpenMosix.Lab;

/// <summary>
/// Becoming a process of a node, as if logged in there: this process joins the node's cgroups, then replaces itself with
/// nsenter, which enters the node's network and mount namespaces and replaces itself with the command. The PID, the
/// terminal and the parent stay the same all the way down, so the command's exit status is ours.
/// </summary>
public static class NodeEntry
{
    /// <summary>nsenter's arguments for running <paramref name="command"/> in <paramref name="node"/>.</summary>
    public static IReadOnlyList<string> NsenterArguments(LabLayout layout, int node, IReadOnlyList<string> command) =>
        ["nsenter", $"--net={layout.NetnsFile(node)}", $"--mount={layout.MountNamespaceFile(node)}", "--", .. command];

    /// <summary>Does not return: on success this process is <paramref name="command"/> inside the node.</summary>
    public static void Become(LabLayout layout, int node, IReadOnlyList<string> command)
    {
        if (command.Count == 0) throw new LabException("lab exec: no command given (om lab exec NODE -- CMD ARGS...)");
        RequireNode(layout, node);
        // setns(CLONE_NEWNS) is refused to a multi-threaded process, and .NET always has several threads: nsenter,
        // single-threaded, does the entering after execve has left the runtime behind.
        var nsenter = ToolPath.Find("nsenter");
        NodeCgroups.Of(layout, node).Join(Environment.ProcessId);
        ExecReplacement.Replace(nsenter, NsenterArguments(layout, node, command));
    }

    public static void RequireNode(LabLayout layout, int node)
    {
        if (!Directory.Exists(layout.Root)) throw new LabException($"no lab named {layout.Name}; `om lab up --name {layout.Name}` creates one");
        if (!File.Exists(layout.NetnsFile(node)) || !File.Exists(layout.MountNamespaceFile(node))
            || !Directory.Exists(layout.CpuCgroup(node)) || !Directory.Exists(layout.MemoryCgroup(node)))
            throw new LabException($"lab {layout.Name} has no node {node}");
    }
}
