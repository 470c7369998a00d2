namespace OpenMosix.Linux.Proc;

/// <summary>The namespaces of a process, as /proc/PID/ns/KIND names them ("user:[4026531837]").</summary>
public static class Namespaces
{
    /// <summary>The namespace of <paramref name="kind"/> (user, pid, mnt, net, ipc, uts, cgroup, time) of a process, or
    /// null when it cannot be read (gone, or this kernel has no such namespace).</summary>
    public static string? Of(int pid, string kind)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The process's namespace of <paramref name="kind"/> when it differs from this process's; null when the same.</summary>
    public static string? OtherThanOurs(int pid, string kind) =>
        Of(pid, kind) is { } theirs && Of(Environment.ProcessId, kind) is { } ours && theirs != ours ? theirs : null;
}
