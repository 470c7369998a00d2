namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The end of a restore, once memory, files and process-wide state are in: the other threads are made (while the
/// process is still privileged: asking for their old ids needs CAP_CHECKPOINT_RESTORE) and set up, every thread
/// drops to the image's credentials, the trampoline goes, and each thread gets its registers back.
/// </summary>
internal sealed class ThreadFinish(int pid, ProcessImage image, ProcessBuilder build, int traceOptions, TimeSpan waitForOriginalIds,
    TimeSpan waitForLockerIds, ILogger logger)
{
    /// <param name="detach">let every thread run; false leaves them stopped under the engine's seize.</param>
    public void Run(bool detach)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SuspendSeccomp();
        // Read once here rather than in every thread: each one cloned below starts with the main thread's.
        int? securebits = image.Threads.Count > 0 ? build.MainSecurebits() : null;
        var now = DateTime.UtcNow;
        var threads = build.CreateThreads(traceOptions, now + waitForOriginalIds, now + (waitForLockerIds > waitForOriginalIds ? waitForLockerIds : waitForOriginalIds));
        var made = clock.Elapsed;
        foreach (var thread in threads) build.RestoreThreadState(thread);
        // Ids the process sees: in its tree's PID namespace of its own (build.InnerIds) the old ones, which the
        // mutexes it holds already name.
        var inner = build.InnerIds;
        var robust = RobustFutexes.Retarget(pid, [new(image.Attributes.RobustListHead, image.Origin.Pid, inner ? image.Origin.Pid : pid),
            .. threads.Select(t => new RobustFutexes.Owner(t.Image.RobustListHead, t.Image.Tid, inner ? t.Image.Tid : t.Tid))]);
        if (robust > 0) logger.LogDebug("Process {Pid}: {Count} robust mutexes renamed for changed thread ids", pid, robust);
        var moved = threads.Where(t => !inner && t.Tid != t.Image.Tid).ToDictionary(t => t.Image.Tid, t => t.Tid);
        if (moved.Count > 0)
        {
            // Where a thread's id changed, the main thread's did most likely too: both are searched for.
            if (pid != image.Origin.Pid) moved[image.Origin.Pid] = pid;
            var renamedMutexes = HeldMutexes.Retarget(pid, image.Regions, moved);
            logger.LogDebug("Process {Pid}: {Mutexes} held mutexes renamed for {Moved} changed thread ids", pid, renamedMutexes, moved.Count);
        }
        var set = clock.Elapsed;
        foreach (var thread in threads) build.RestoreThreadCredentials(thread, securebits!.Value);
        build.RestoreCredentials(securebits);
        build.RestoreSeccomp(threads);
        build.RestoreDumpable();
        // A migration's copy (it may wait for ids) says it at information: what its threads add to its frozen time.
        logger.Log(waitForOriginalIds > TimeSpan.Zero && threads.Count > 0 ? LogLevel.Information : LogLevel.Debug,
            "Process {Pid} (was {OriginalPid}): {Threads} threads made in {Made:F2} ms ({Waited:F2} ms of it waiting for ids the original still held), set up in {Set:F2} ms, credentials in {Credentials:F2} ms",
            pid, image.Origin.Pid, threads.Count, made.TotalMilliseconds, build.WaitedForIds.TotalMilliseconds, (set - made).TotalMilliseconds, (clock.Elapsed - set).TotalMilliseconds);
        build.DropTrampoline();
        // The restorer (omd) may run with a better priority than the processes it restores: the process takes its own.
        Niceness.Set(pid, Math.Clamp(image.Attributes.Nice, -20, 19));
        OomScore.Restore(pid, image.Attributes.OomScoreAdjust, logger);
        foreach (var thread in threads)
        {
            var t = thread.Image;
            Niceness.Set(thread.Tid, Math.Clamp(t.Nice, -20, 19));
            Ptrace.SetExtendedState(thread.Tid, t.ExtendedState);
            Ptrace.SetSignalMask(thread.Tid, t.BlockedMask);
            Ptrace.SetRegs(thread.Tid, UserRegs.FromBytes(t.GeneralRegisters));
        }
        Ptrace.SetExtendedState(pid, image.Cpu.ExtendedState);
        Ptrace.SetSignalMask(pid, image.Signals.BlockedMask);
        Ptrace.SetRegs(pid, UserRegs.FromBytes(image.Cpu.GeneralRegisters));
        var renamed = threads.Count(t => !inner && t.Tid != t.Image.Tid);
        if (renamed > 0) logger.LogInformation("Process {Pid}: {Moved} of {Threads} threads got new ids (theirs are taken here)", pid, renamed, threads.Count);
        if (build.LockersWaitedFor > 0)
            logger.LogInformation("Process {Pid}: {Lockers} threads were locking a robust mutex and waited for their own ids", pid, build.LockersWaitedFor);
        // Another process has the id: nothing better is possible here, but a failure of the program's unlock is explained.
        if (build.LockersRenamed.Count > 0)
            logger.LogWarning("Process {Pid}: threads {Tids} were locking a robust mutex and got new ids (theirs are another process's here); glibc goes on locking with the old id, so their unlock of that mutex may fail with EPERM",
                pid, string.Join(",", build.LockersRenamed));
        // Taken in a group-stop (^Z, SIGSTOP): stopped again before anything of it runs, until SIGCONT.
        if (image.Signals.StoppedBy != 0)
        {
            var by = GroupStop.Enter(pid, image.Signals.StoppedBy);
            logger.LogInformation("Process {Pid} is stopped (signal {Signal}) as it was when taken, until SIGCONT", pid, by);
        }
        if (!detach) return;
        foreach (var thread in threads) Ptrace.Detach(thread.Tid);
        Ptrace.Detach(pid);
    }

    /// <summary>
    /// A process with seccomp filters gets them last, but a few calls are still injected after them (the dumpable
    /// flag, the trampoline's unmapping) and a filter may forbid those: its filters are suspended while it is traced
    /// (threads cloned from here on inherit the option). That needs a root restorer not under seccomp itself.
    /// </summary>
    private void SuspendSeccomp()
    {
        if (image.MainThread.Privileges.SeccompFilters.Count == 0 && image.Threads.All(t => t.Settings.Privileges.SeccompFilters.Count == 0)) return;
        traceOptions |= Ptrace.O_SUSPEND_SECCOMP;
        try
        {
            Ptrace.SetOptions(pid, traceOptions);
        }
        catch (SyscallException e)
        {
            throw new RestoreException($"the process runs under seccomp filters, which only a root restorer not under seccomp itself can install again ({e.Message})");
        }
    }
}
