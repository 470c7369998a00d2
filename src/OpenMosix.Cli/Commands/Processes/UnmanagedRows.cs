using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Cli.Commands.Processes;

/// <summary>
/// `om ps --all`: the processes of this node that openMosix does not manage, read from /proc here (om runs on the
/// node it asks), as rows with ORIGIN and STATE "unmanaged", so mps shows every process as openMosix's did. Kernel
/// threads are left out; in `om lab` the nodes share the machine's PID namespace, so every node lists them all.
/// </summary>
internal static class UnmanagedRows
{
    public static ProcessList With(ProcessList managed)
    {
        var known = managed.Processes.Select(p => p.Pid).ToHashSet();
        var rows = new List<ProcessRow>(managed.Processes);
        foreach (var (pid, parent) in ProcessTable.ReadParents())
        {
            if (known.Contains(pid) || Row(pid, parent, managed.Self) is not { } row) continue;
            rows.Add(row);
        }
        return managed with { Processes = [.. rows.OrderBy(r => r.Pid)] };
    }

    private static ProcessRow? Row(int pid, int parent, int self)
    {
        try
        {
            var stat = ProcFs.ReadStat(pid);
            if (stat.IsKernelThread) return null;
            return new ProcessRow(pid, (int)ProcFs.ReadStatus(pid).Uid[0], self, self, "unmanaged", 0, false, [], stat.CpuSeconds,
                ProcFs.ReadResidentBytes(pid), ProcFs.ReadCommand(pid), 0, parent, "unmanaged");
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException or FormatException)
        {
            return null; // gone while listed
        }
    }
}
