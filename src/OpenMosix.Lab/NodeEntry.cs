using OpenMosix.Lab.Host;
using OpenMosix.Linux;

namespace OpenMosix.Lab;

/// <summary>
/// Becoming a process of a node, as if logged in there: this process joins the node's cgroups, then replaces itself with
/// nsenter, which enters the node's network and mount namespaces and replaces itself with the command. The PID, the
/// terminal, the parent and the working directory stay the same all the way down, so the command's exit status is ours.
/// </summary>
public static class NodeEntry
{
    /// <summary>
    /// nsenter's arguments for running <paramref name="command"/> in <paramref name="node"/> in
    /// <paramref name="workingDirectory"/>. --wdns changes directory after entering the mount namespace: --wd would
    /// open the directory on the host first, leaving the command in a directory outside the node's mounts (getcwd
    /// then reads "(unreachable)").
    /// </summary>
    public static IReadOnlyList<string> NsenterArguments(LabLayout layout, int node, string workingDirectory, IReadOnlyList<string> command) =>
        ["nsenter", $"--net={layout.NetnsFile(node)}", $"--mount={layout.MountNamespaceFile(node)}", $"--wdns={workingDirectory}", "--", .. command];

    /// <summary>Does not return: on success this process is <paramref name="command"/> inside the node.</summary>
    public static void Become(LabLayout layout, int node, IReadOnlyList<string> command)
    {
        if (command.Count == 0) throw new LabException("lab exec: no command given (om lab exec NODE -- CMD ARGS...)");
        RequireNode(layout, node);
        // setns(CLONE_NEWNS) is refused to a multi-threaded process, and .NET always has several threads: nsenter,
        // single-threaded, does the entering after execve has left the runtime behind.
        var nsenter = ToolPath.Find("nsenter");
        var workingDirectory = CallersDirectory();
        RequireDirectoryInNode(layout, node, nsenter, workingDirectory);
        NodeCgroups.Of(layout, node).Join(Environment.ProcessId);
        ExecReplacement.Replace(nsenter, NsenterArguments(layout, node, workingDirectory, command));
    }

    private static string CallersDirectory()
    {
        try
        {
            return Directory.GetCurrentDirectory();
        }
        catch (IOException)
        {
            throw new LabException("lab exec: the current directory no longer exists; cd to one that does");
        }
    }

    /// <summary>
    /// A node shares the host's file system, but not mounts made on the host after the lab came up, nor the host's
    /// /run/openmosix. nsenter's own complaint about a missing directory names neither the directory nor the node, so
    /// the node is asked first, with nsenter's help (this process may not enter a mount namespace itself).
    /// </summary>
    private static void RequireDirectoryInNode(LabLayout layout, int node, string nsenter, string directory)
    {
        var check = ToolRun.TryRun("lab exec", nsenter, $"--mount={layout.MountNamespaceFile(node)}", "--", "test", "-d", directory);
        if (!check.Succeeded)
            throw new LabException($"lab exec: the current directory {directory} does not exist in node {node}; cd to one that does");
    }

    public static void RequireNode(LabLayout layout, int node)
    {
        if (!Directory.Exists(layout.Root)) throw new LabException($"no lab named {layout.Name}; `om lab up --name {layout.Name}` creates one");
        if (!File.Exists(layout.NetnsFile(node)) || !File.Exists(layout.MountNamespaceFile(node))
            || !Directory.Exists(layout.CpuCgroup(node)) || !Directory.Exists(layout.MemoryCgroup(node)))
            throw new LabException($"lab {layout.Name} has no node {node}");
    }
}
