using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// The processes below one at home, read from /proc (the lab's nodes share this PID namespace). A job that runs away
/// keeps its PID at home (its deputy, which keeps its name), so these are the PIDs to signal jobs by wherever they
/// run; omd's list is no substitute: under load a job's row can be missing for a moment, or listed under a PID
/// that has gone (both seen at load 110-160).
/// </summary>
internal static class Descendants
{
    /// <summary>Every descendant of <paramref name="pid"/>, children before their own children; empty once it is gone.</summary>
    public static List<int> Of(int pid)
    {
        var all = new List<int>();
        foreach (var child in ProcFs.ReadChildren(pid))
        {
            all.Add(child);
            all.AddRange(Of(child));
        }
        return all;
    }

    /// <summary>The descendants of <paramref name="pid"/> whose name (comm) is <paramref name="name"/>.</summary>
    public static List<int> Named(int pid, string name) => [.. Of(pid).Where(p => NameOf(p) == name)];

    /// <summary>SIGKILLs every descendant of <paramref name="pid"/> still there (a deputy's end ends its copy): after a
    /// failure, so that no job spins on in a lab the next tests share.</summary>
    public static void Kill(int pid)
    {
        foreach (var process in Enumerable.Reverse(Of(pid)))
        {
            try
            {
                Signals.Kill(process, Signals.SIGKILL);
            }
            catch (ProcessAccessException)
            {
                // already gone
            }
        }
    }

    private static string? NameOf(int pid)
    {
        try
        {
            return ProcFs.ReadComm(pid);
        }
        catch (ProcessAccessException)
        {
            return null;
        }
    }
}
