using System.Globalization;
using System.Text;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Starts the stub with posix_spawn: from the tracer thread with ADDR_NO_RANDOMIZE set on that thread only (the
/// personality is per task and inherited by the child), and RLIMIT_STACK briefly raised so the stub's mmap base
/// lies far below the usual library addresses. When asked and possible it gets the image's original PID by
/// writing PID-1 to ns_last_pid under flock right before the spawn.
/// </summary>
internal static class StubSpawner
{
    private const string LastPidPath = "/proc/sys/kernel/ns_last_pid";
    private const ulong BigStack = 16UL << 30;
    private static readonly Lock SpawnLock = new();

    /// <param name="newSession">started as the leader of a session of its own (a copy's stand-in session leader).</param>
    /// <param name="skipPast">with <paramref name="wantedPid"/>: the PIDs above it up to this one are wanted next (a
    /// tree's children), so the kernel's next PID moves past them as soon as the stub has its own, still under the lock.</param>
    public static int Spawn(byte[] elf, IReadOnlyDictionary<int, int> descriptors, int wantedPid, ILogger logger, bool newSession = false, int skipPast = 0) =>
        WithStubFile(elf, path => SpawnLocked(path, descriptors, wantedPid, logger, newSession, skipPast));

    /// <summary>Runs <paramref name="start"/> with a path the stub can be executed from (by this process or, as root,
    /// by another: a tree's child stub executes it from inside its parent's).</summary>
    public static int WithStubFile(byte[] elf, Func<string, int> start)
    {
        // Executing a file that is open for writing fails (ETXTBSY): reopen the memfd read-only, drop the writer.
        string path;
        using (var writable = Descriptors.CreateMemoryFile("om-restore-stub", elf))
        {
            path = $"/proc/{Environment.ProcessId}/fd/{writable.DangerousGetHandle()}";
            using var readOnly = Descriptors.Open(path, OpenFlags.ReadOnly);
            writable.Dispose();
            path = $"/proc/{Environment.ProcessId}/fd/{readOnly.DangerousGetHandle()}";
            return start(path);
        }
    }

    private static int SpawnLocked(string path, IReadOnlyDictionary<int, int> descriptors, int wantedPid, ILogger logger, bool newSession, int skipPast)
    {
        lock (SpawnLock)
        {
            var persona = ThreadPersonality.Get();
            ThreadPersonality.Set(persona | ThreadPersonality.AddrNoRandomize);
            var stack = ResourceLimits.Get(0, ResourceLimits.RLIMIT_STACK);
            var big = stack;
            big.Current = Math.Min(BigStack, stack.Maximum);
            ResourceLimits.Set(0, ResourceLimits.RLIMIT_STACK, big);
            try
            {
                var request = new SpawnRequest(path, ["om-restore"]) { Environment = [], Descriptors = descriptors, NewSession = newSession };
                return wantedPid > 1 ? SpawnWithPid(request, wantedPid, logger, skipPast) : ProcessSpawner.Spawn(request);
            }
            finally
            {
                ResourceLimits.Set(0, ResourceLimits.RLIMIT_STACK, stack);
                ThreadPersonality.Set(persona);
            }
        }
    }

    /// <summary>
    /// Moves the next PID the kernel hands out past <paramref name="pid"/>, if it is not already: after a stub got
    /// its old PID by rewinding ns_last_pid, every thread and process made next would take the PIDs that follow,
    /// which a tree's children are about to ask for. Best effort: without the file nothing was rewound.
    /// </summary>
    public static void SkipPast(int pid)
    {
        try
        {
            using var lastPid = Descriptors.Open(LastPidPath, OpenFlags.ReadWrite);
            Descriptors.LockExclusive(lastPid);
            var text = new byte[16];
            var length = RandomAccess.Read(lastPid, text, 0);
            if (int.TryParse(Encoding.ASCII.GetString(text, 0, length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last) && last >= pid)
                return;
            RandomAccess.Write(lastPid, Encoding.ASCII.GetBytes(pid.ToString(CultureInfo.InvariantCulture)), 0);
        }
        catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
        {
            // not root: no PID was asked for either
        }
    }

    // The kernel hands out ns_last_pid+1 to the next fork in this PID namespace; the flock keeps other restorers
    // (and CRIU-style tools, which lock the same file) out. Anything else that forks in between wins the race:
    // the stub that got another PID is killed and the attempt repeated a few times; then any PID will do, which the
    // caller checks and reports.
    private const int PidAttempts = 5;

    private static int SpawnWithPid(SpawnRequest request, int wantedPid, ILogger logger, int skipPast)
    {
        try
        {
            using var lastPid = Descriptors.Open(LastPidPath, OpenFlags.ReadWrite);
            Descriptors.LockExclusive(lastPid);
            for (var attempt = 1; ; attempt++)
            {
                RandomAccess.Write(lastPid, Encoding.ASCII.GetBytes((wantedPid - 1).ToString(CultureInfo.InvariantCulture)), 0);
                var pid = ProcessSpawner.Spawn(request);
                if (pid == wantedPid && skipPast > wantedPid)
                    RandomAccess.Write(lastPid, Encoding.ASCII.GetBytes(skipPast.ToString(CultureInfo.InvariantCulture)), 0);
                if (pid == wantedPid || attempt == PidAttempts || Signals.Exists(wantedPid)) return pid;
                logger.LogDebug("Stub got PID {Pid} instead of {Wanted} (attempt {Attempt}); retrying", pid, wantedPid, attempt);
                Signals.Kill(pid, Signals.SIGKILL);
                Waiting.WaitPid(pid);
            }
        }
        catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
        {
            logger.LogInformation("Cannot ask for PID {Pid} ({Error}); taking any PID", wantedPid, e.Message);
            return ProcessSpawner.Spawn(request);
        }
    }
}
