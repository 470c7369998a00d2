using System.Diagnostics;
using OpenMosix.Admin;
using OpenMosix.Linux;

namespace OpenMosix.Lab;

/// <summary>One daemon being waited for: its node, its PID, the socket it will listen on, and its log.</summary>
public sealed record PendingDaemon(int Node, int Pid, string Socket, string Log);

/// <summary>
/// Waits until every node's daemon accepts connections on its socket. A daemon that exits first fails the wait at once,
/// with the end of its log, instead of leaving the user to wait out the timeout.
/// </summary>
public static class DaemonReadiness
{
    public static void WaitAll(IReadOnlyList<PendingDaemon> daemons, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var pending = daemons.ToList();
        while (pending.Count > 0)
        {
            foreach (var daemon in pending.ToArray())
            {
                if (SocketProbe.Accepts(daemon.Socket))
                {
                    pending.Remove(daemon);
                    continue;
                }
                if (HasExited(daemon.Pid, out var how))
                    throw new LabException($"node {daemon.Node}: daemon (PID {daemon.Pid}) {how} before its socket {daemon.Socket} was ready; {LastLogLine(daemon.Log)}");
            }
            if (pending.Count == 0) break;
            if (clock.Elapsed > timeout)
            {
                var first = pending[0];
                throw new LabException($"node {first.Node}: daemon socket {first.Socket} not ready after {timeout.TotalSeconds:F0} s" +
                    $"{(pending.Count > 1 ? $" ({pending.Count} nodes waiting)" : "")}; {LastLogLine(first.Log)}");
            }
            Thread.Sleep(20);
        }
    }

    // Our own child: reap it to learn how it ended. Not our child (ECHILD): only whether it still exists.
    private static bool HasExited(int pid, out string how)
    {
        try
        {
            var status = Waiting.WaitPid(pid, Waiting.WNOHANG);
            how = status.Raw == -1 ? "" : status.Exited ? $"exited with status {status.ExitCode}" : $"was killed by signal {status.TermSignal}";
            return status.Raw != -1;
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
            how = "exited";
            return !Signals.Exists(pid);
        }
    }

    // Two lines: a failing om prints its reason, then a hint; the reason is the part worth reading.
    private static string LastLogLine(string log)
    {
        try
        {
            var last = File.ReadLines(log).Where(l => l.Trim().Length > 0).TakeLast(2).Select(l => l.Trim()).ToList();
            return last.Count == 0 ? $"{log} is empty" : $"end of {log}: {string.Join(" | ", last)}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"no log at {log}";
        }
    }
}
