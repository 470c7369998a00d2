namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Refuses a tree section the restorer could not follow safely: every process once, the root first, each parent
/// before its children, ids and signals in range, exited children without images and running ones with; every
/// shared pipe with both ends in the tree, no descriptor number twice in a process, contents within a pipe's reach.
/// </summary>
internal static class TreeValidator
{
    private const int MaxProcesses = 1 << 14, MaxPipes = 1 << 14, MaxEnds = 1 << 16, MaxFd = 1 << 20;
    /// <summary>The most a pipe can hold (fs.pipe-max-size's default), as it can be buffered at a checkpoint.</summary>
    public const int MaxPipeContents = 1 << 20;

    public static void Validate(TreeImage tree)
    {
        Require(tree.Processes is { Count: > 0 and <= MaxProcesses }, "tree section lists no processes, or too many");
        Require(tree.Pipes is { Count: <= MaxPipes }, "tree section's pipe list is missing or too long");
        var seen = new HashSet<int>();
        for (var i = 0; i < tree.Processes.Count; i++)
        {
            var p = tree.Processes[i];
            Require(p is not null, $"tree process {i} is null");
            Require(p!.Pid > 0 && seen.Add(p.Pid), $"tree process {i} has PID {p.Pid}, not positive or listed twice");
            // 0 is what /proc shows when the leader lives outside this PID namespace (a container's processes whose
            // session was made by the runtime): the restore inherits it, so only a negative id is damage.
            Require(p.ProcessGroup >= 0 && p.Session >= 0, $"process {p.Pid} has process group {p.ProcessGroup} and session {p.Session}");
            Require(p.ExitSignal is >= 0 and <= 64, $"process {p.Pid} has exit signal {p.ExitSignal}");
            if (i == 0)
            {
                Require(p.Pid == tree.RootPid && p.ParentPid == 0 && p.ExitStatus is null, $"the first tree process ({p.Pid}) is not the running root {tree.RootPid}");
                continue;
            }
            Require(p.ParentPid != p.Pid && seen.Contains(p.ParentPid), $"process {p.Pid} has parent {p.ParentPid}, not listed before it");
            Require(p.ExitStatus is null or (>= 0 and <= 0xffff), $"process {p.Pid} has wait status {p.ExitStatus}");
        }
        var running = tree.Processes.Where(p => p.ExitStatus is null).Select(p => p.Pid).ToHashSet();
        var held = new HashSet<(int, int)>();
        var ends = 0;
        foreach (var pipe in tree.Pipes)
        {
            if (pipe is not { Name: not null, Contents: not null, Ends: not null }) throw Problem("a tree pipe is null or lacks its name, contents or ends");
            Require(pipe.Ends.TrueForAll(e => e is not null), $"tree pipe {pipe.Name} has a null end");
            Require(pipe.Contents.Length <= MaxPipeContents, $"tree pipe {pipe.Name} holds {pipe.Contents.Length} bytes");
            Require(pipe.Ends.Any(e => e is { Write: false }), $"tree pipe {pipe.Name} has no read end");
            foreach (var end in pipe.Ends)
            {
                Require(++ends <= MaxEnds, "too many tree pipe ends");
                Require(running.Contains(end.Pid), $"tree pipe {pipe.Name} names process {end.Pid}, not a running process of the tree");
                Require(end.Fd is >= 0 and < MaxFd && held.Add((end.Pid, end.Fd)), $"tree pipe {pipe.Name}: fd {end.Fd} of process {end.Pid} is out of range or listed twice");
            }
        }
        ValidateFiles(tree, running, held);
    }

    private static void ValidateFiles(TreeImage tree, HashSet<int> running, HashSet<(int, int)> held)
    {
        Require(tree.Files is { Count: <= MaxPipes }, "tree section's file list is missing or too long");
        foreach (var file in tree.Files)
        {
            if (file is not { Path: not null, Ends: not null }) throw Problem("a shared file is null or lacks its path or ends");
            Require(file.Path.StartsWith('/') && !file.Path.Contains('\0', StringComparison.Ordinal), $"shared file {file.Path} is not an absolute path");
            Require(file.Offset >= 0 && file.Ends.Count > 0, $"shared file {file.Path} has offset {file.Offset} or no descriptor");
            foreach (var end in file.Ends)
            {
                Require(end is not null && running.Contains(end.Pid), $"shared file {file.Path} names a process that is not a running process of the tree");
                Require(end!.Fd is >= 0 and < MaxFd && held.Add((end.Pid, end.Fd)), $"shared file {file.Path}: fd {end.Fd} of process {end.Pid} is out of range or listed twice");
            }
        }
    }

    /// <summary>Where each running process's image lies in the tree's directory.</summary>
    public static string ImageName(int pid) => $"{pid}.img";

    private static void Require(bool condition, string problem)
    {
        if (!condition) throw Problem(problem);
    }

    private static CorruptImageException Problem(string problem) => new($"corrupt tree section: {problem}");
}
