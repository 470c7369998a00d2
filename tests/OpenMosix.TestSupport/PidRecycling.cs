using System.Globalization;
using System.Text;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.TestSupport;

/// <summary>
/// Hands a PID out again, as the kernel does once a process is reaped and the PIDs wrap (root only): the next fork
/// gets ns_last_pid+1. Other processes of the machine fork too, so an attempt that lost the PID is undone and
/// repeated; the flock on ns_last_pid keeps restorers (which use it the same way) out meanwhile.
/// </summary>
public static class PidRecycling
{
    private const string LastPid = "/proc/sys/kernel/ns_last_pid";
    private const int Attempts = 100;

    /// <summary>
    /// Waits until the clock has passed the start tick of an ended process (/proc/PID/stat's start time, in clock ticks
    /// of 10 ms): the kernel hands a PID out again only after wrapping pid_max, long after; a process handed it at
    /// once, as here, can be told from the ended one by its start time only from the next tick on.
    /// </summary>
    public static void WaitPastTick(ulong started, TimeSpan timeout) =>
        Poll.Until(() => (ulong)(double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture) * 100) > started + 1,
            timeout, "the clock to pass the ended process's start tick");

    /// <summary>Starts <paramref name="path"/> as PID <paramref name="pid"/>, which must be free.</summary>
    public static ChildProcess StartAs(int pid, string path, IReadOnlyList<string> arguments)
    {
        using var lastPid = Descriptors.Open(LastPid, OpenFlags.ReadWrite);
        Descriptors.LockExclusive(lastPid);
        for (var attempt = 0; attempt < Attempts && !Signals.Exists(pid); attempt++)
        {
            RandomAccess.Write(lastPid, Encoding.ASCII.GetBytes((pid - 1).ToString(CultureInfo.InvariantCulture)), 0);
            var child = ChildProcess.Start(path, arguments);
            if (child.Pid == pid) return child;
            child.Dispose();
        }
        throw new InvalidOperationException($"PID {pid} could not be handed out again in {Attempts} attempts");
    }
}
