using System.Collections.Concurrent;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// All threads of a process, seized and stopped together. ptrace works on threads: each one is seized and
/// interrupted on its own, so a thread not yet stopped can create another meanwhile. The task list is read again
/// until a pass finds no thread that is not stopped yet; a thread that exits before its stop is dropped.
/// </summary>
internal static class ThreadGroup
{
    /// <summary>For tests, per process: called with the pass and the task list just read, before any listed thread
    /// is seized, so a test can make a thread be born at the one moment a freeze can miss it.</summary>
    internal static readonly ConcurrentDictionary<int, Action<int, IReadOnlyList<int>>> TaskListReadHooks = new();

    /// <summary>Seizes and stops every thread of <paramref name="pid"/>; returns their ids, the main thread first.
    /// <paramref name="foundLate"/>: the threads a later pass found, born while the others were being stopped.</summary>
    public static List<int> SeizeAndStopAll(int pid, int options, out List<int> foundLate) =>
        SeizeAndStopAll(pid, options, out foundLate, out _);

    /// <summary>As above; <paramref name="stoppedBy"/>: the signal of the group-stop the process is in, or 0.</summary>
    public static List<int> SeizeAndStopAll(int pid, int options, out List<int> foundLate, out int stoppedBy)
    {
        stoppedBy = Freezer.SeizeAndStop(pid, options);
        var stopped = new List<int> { pid };
        foundLate = [];
        try
        {
            for (var pass = 0; ; pass++)
            {
                var fresh = new List<int>();
                var tasks = ProcFs.ReadTasks(pid);
                if (TaskListReadHooks.TryGetValue(pid, out var hook)) hook(pass, tasks);
                foreach (var tid in tasks)
                {
                    if (stopped.Contains(tid)) continue;
                    try
                    {
                        Ptrace.Seize(tid, options);
                        Ptrace.Interrupt(tid);
                        fresh.Add(tid);
                    }
                    catch (ProcessAccessException) when (!ProcFs.TaskExists(pid, tid))
                    {
                        // exited between the listing and the seize
                    }
                }
                if (fresh.Count == 0) return stopped;
                // Interrupted first, waited for after: the threads stop as close together as ptrace allows.
                foreach (var tid in fresh)
                {
                    try
                    {
                        Freezer.WaitForEventStop(tid);
                        stopped.Add(tid);
                        if (pass > 0) foundLate.Add(tid);
                    }
                    catch (TraceeGoneException)
                    {
                        // the thread ended (pthread_exit) before its stop: its exit was collected
                    }
                }
            }
        }
        catch
        {
            foreach (var tid in stopped) TryDetach(tid);
            throw;
        }
    }

    /// <summary>The threads of a process this tracer holds stopped besides its main thread (after a freeze).</summary>
    public static List<int> OtherThreads(int pid)
    {
        try
        {
            return [.. ProcFs.ReadTasks(pid).Where(t => t != pid)];
        }
        catch (ProcessAccessException)
        {
            return [];
        }
    }

    /// <summary>Lets every thread of a process kept stopped run on: the others first, then the main thread.</summary>
    public static void DetachOthers(int pid)
    {
        foreach (var tid in OtherThreads(pid)) TryDetach(tid);
    }

    public static void TryDetach(int tid)
    {
        try
        {
            HeldTraces.Detach(tid);
        }
        catch (SyscallException)
        {
            // gone, or never ours
        }
    }

    /// <summary>
    /// Collects the exit of every traced thread but the main one after the process was killed: a traced thread stays
    /// a zombie until its tracer collects it, and the main thread's exit is not reported while any is left.
    /// </summary>
    public static void CollectKilledThreads(IEnumerable<int> threads)
    {
        foreach (var tid in threads)
        {
            try
            {
                while (Waiting.WaitPid(tid, Waiting.WALL).Stopped)
                {
                    // stops queued before the kill come out first
                }
            }
            catch (SyscallException e) when (e.Error == Errno.ECHILD)
            {
                // collected already
            }
        }
    }
}
