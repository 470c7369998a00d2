using System.Diagnostics;
using System.Runtime.CompilerServices;
using OpenMosix.Checkpoint.CantMove;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Freezes a process, reads all of its state into a <see cref="ProcessImage"/> and its pages into a sink, then
/// kills it, resumes it, or keeps it frozen. Runs on the tracer thread. On any failure the process is resumed
/// exactly where it was (its registers and signal mask put back) unless it is already gone. The pages are copied
/// <see cref="TracerThread.Aside{T}">aside</see>: the tracer thread serves brief work for other processes meanwhile.
/// </summary>
internal sealed class Dumper(ILogger logger, TracerThread tracer)
{
    private const int ScratchSize = 4096, SigactionSize = 32, ItimervalOffset = 2048, ItimervalSize = 32, ThreadAnswersOffset = 3072;

    public DumpResult Dump(int pid, IImageSink sink, DumpOptions options, Action<int> keptFrozen)
    {
        var total = Stopwatch.StartNew();
        var stat = ProcFs.ReadStat(pid);
        var isOurChild = stat.PPid == Environment.ProcessId;
        // A main thread that has ended cannot be stopped (nor rebuilt around): refused before any seize.
        if (stat.State is 'Z' or 'X' && ProcFs.ReadTasks(pid).Count > 1)
            throw new CantMoveException(new CantMoveReport(pid, ["its main thread has exited while other threads run on"]));
        // A process in a group-stop (^Z, SIGSTOP) is taken as it is: its image says so, and let go it stays stopped.
        HeldStops.Take(pid);
        var threads = ThreadGroup.SeizeAndStopAll(pid, Ptrace.O_TRACESYSGOOD | PrivilegeReader.SeizeOptions(pid), out var bornWhileFreezing, out var stoppedBy);
        var attachToStopped = total.Elapsed;
        var frozen = Stopwatch.StartNew();
        options.WhileFrozen?.Invoke(pid);
        var original = Ptrace.GetRegs(pid);
        List<ThreadStateReader.Frozen> others;
        try
        {
            others = [.. threads.Skip(1).Select(t => new ThreadStateReader.Frozen(t, Ptrace.GetRegs(t), Ptrace.GetSignalMask(t)))];
        }
        catch
        {
            foreach (var tid in threads) ThreadGroup.TryDetach(tid);
            throw;
        }
        // Inside sigsuspend/ppoll/pselect the kernel answers with the real mask (saved_sigmask), and re-executing the
        // call on resume installs its temporary mask again: nothing special to do here.
        var originalMask = Ptrace.GetSignalMask(pid);
        ProcessImage image;
        ulong pageBytes;
        try
        {
            // Checked again now that it cannot fork any more: a child born since the analysis would be left behind.
            if (options.ForwardDescriptors && ChildrenAtHome.Reasons(pid).ToList() is { Count: > 0 } bound)
                throw new CantMoveException(new CantMoveReport(pid, bound));
            if (!options.WithChildren && !options.ForwardDescriptors && CantMoveAnalyzer.ChildrenReason(ProcFs.ReadChildren(pid)) is { } children)
                throw new CantMoveException(new CantMoveReport(pid, [children]));
            (image, pageBytes) = Read(pid, sink, options, original, originalMask, others, stoppedBy);
        }
        catch (Exception e)
        {
            logger.LogWarning("Checkpoint of {Pid} failed, resuming it: {Error}", pid, e.Message);
            logger.LogDebug(e, "Checkpoint of {Pid} failed", pid);
            // The other threads first: once the main thread runs again, any of them may be asked to exit.
            foreach (var thread in others) TryResume(thread.Tid, thread.Registers, thread.Mask, isOurChild: false);
            TryResume(pid, original, originalMask, isOurChild);
            TryResendStop(pid);
            throw;
        }

        try
        {
            switch (options.After)
            {
                case AfterDump.Kill:
                    Signals.Kill(pid, Signals.SIGKILL);
                    ThreadGroup.CollectKilledThreads(others.Select(t => t.Tid));
                    WaitUntilDead(pid, isOurChild);
                    break;
                case AfterDump.Resume:
                    foreach (var thread in others) Resume(thread.Tid, thread.Registers, thread.Mask);
                    Resume(pid, original, originalMask);
                    HeldStops.Resend(pid);
                    break;
                case AfterDump.KeepFrozen:
                    foreach (var thread in others.Prepend(new ThreadStateReader.Frozen(pid, original, originalMask)))
                        PutBack(thread.Tid, thread.Registers, thread.Mask);
                    keptFrozen(pid);
                    break;
            }
        }
        catch (Exception e) when (options.After != AfterDump.Kill && KilledTracee.Is(e))
        {
            // Killed between its last page and now (the OOM killer on a full node): its image is complete, but there
            // is no process left to resume or keep; its parent gets its death.
            KilledTracee.Release(pid, isOurChild, logger);
            throw new TraceeGoneException(pid, $"process {pid} was killed while frozen for its checkpoint");
        }
        var result = new DumpResult(pid, image.Regions.Count, image.Files.Count, pageBytes, attachToStopped, frozen.Elapsed, total.Elapsed)
        {
            ThreadsBornWhileFreezing = bornWhileFreezing,
            StoppedBy = image.Signals.StoppedBy,
            // Kept frozen: its stop is sent again when it is let go (CheckpointEngine.Thaw).
            StopHeld = options.After == AfterDump.KeepFrozen && HeldStops.Take(pid),
            PendingInImage = [.. image.Signals.Pending.Concat(image.Threads.SelectMany(t => t.Pending)).Select(p => p.Number)],
        };
        logger.LogInformation("Checkpointed {Pid}: {Threads} threads, {Regions} regions, {Files} fds, {PageMiB:F1} MiB of pages, stopped in {Attach:F2} ms, frozen {Frozen:F1} ms, {After}",
            pid, 1 + image.Threads.Count, result.RegionCount, result.FileCount, pageBytes / 1048576.0, attachToStopped.TotalMilliseconds, result.Frozen.TotalMilliseconds, options.After);
        return result;
    }

    private (ProcessImage, ulong) Read(int pid, IImageSink sink, DumpOptions options, UserRegs original, ulong originalMask,
        List<ThreadStateReader.Frozen> others, int stoppedBy)
    {
        // Pages gathered early must be dropped, and their gatherer stopped, before a failed dump resumes the process.
        var early = new StrongBox<EarlyPages?>();
        try
        {
            return Read(pid, sink, options, original, originalMask, others, stoppedBy, early);
        }
        catch
        {
            early.Value?.Abandon();
            throw;
        }
    }

    private (ProcessImage, ulong) Read(int pid, IImageSink sink, DumpOptions options, UserRegs original, ulong originalMask,
        List<ThreadStateReader.Frozen> others, int stoppedBy, StrongBox<EarlyPages?> early)
    {
        var phase = Stopwatch.StartNew();
        var xstate = Ptrace.GetExtendedState(pid);
        var rseq = Ptrace.GetRseqConfiguration(pid);
        var robust = RobustList.Get(pid);
        var stat = ProcFs.ReadStat(pid);
        var status = ProcFs.ReadStatus(pid);
        var uname = SystemInfo.Uname();

        // Signals that arrive while we inject stay pending (and are delivered on resume) instead of stopping us.
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        foreach (var thread in others) Ptrace.SetSignalMask(thread.Tid, ulong.MaxValue);
        // Asked before any memory is read: a carried-out read's bytes go into its buffer.
        var carriedOut = CarriedOut(options.CarriedOut, pid, original, others);
        var maps = ProcFs.ReadMaps(pid);
        var regions = maps.Select(m => RegionBuilder.Build(pid, m)).ToList();
        // The pages are gathered meanwhile (a pre-copy's final image plans its pages from the final layout: after).
        if (options.Precopy is null) early.Value = EarlyPages.Start(pid, regions, sink, options);
        var syscallAt = ProcessInspector.FindSyscallInstruction(pid, regions);
        if (syscallAt == 0) throw new InjectionException($"process {pid} has no syscall instruction in its code to inject through");
        var injector = new SyscallInjector(pid, syscallAt, original);

        var scratch = (ulong)injector.Call("mmap of a scratch page", Mmap, 0, ScratchSize, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        var raw = new byte[ScratchSize];
        ulong brk;
        ThreadSettings mainSettings;
        int membarriers;
        int dumpable;
        var settings = new Dictionary<int, (ThreadSettings, int)>();
        try
        {
            brk = (ulong)injector.Call("brk(0)", Brk, 0);
            var withAction = status.SigCgt | status.SigIgn;
            for (var sig = 1; sig <= 64; sig++)
            {
                if (sig is Signals.SIGKILL or Signals.SIGSTOP || (withAction & (1UL << (sig - 1))) == 0) continue;
                injector.Call($"rt_sigaction({sig})", RtSigaction, sig, 0, (long)scratch + SigactionSize * (sig - 1), 8);
            }
            for (var which = 0; which < 3; which++)
                injector.Call($"getitimer({which})", Getitimer, which, (long)scratch + ItimervalOffset + ItimervalSize * which);
            ProcessMemory.Read(pid, scratch, raw);
            membarriers = MembarrierProbe.Registrations(injector);
            // 2 (SUID_DUMP_ROOT, set by the kernel on a setuid exec) cannot be set by prctl: 0 is as strict for ptrace.
            dumpable = injector.Call("prctl(PR_GET_DUMPABLE)", Prctl, PrGetDumpable) == 1 ? 1 : 0;
            var answers = scratch + ThreadAnswersOffset;
            mainSettings = ThreadStateReader.ReadSettings(pid, pid, injector, answers, main: true).Settings;
            foreach (var thread in others)
                settings[thread.Tid] = ThreadStateReader.ReadSettings(pid, thread.Tid, new SyscallInjector(thread.Tid, syscallAt, thread.Registers), answers, main: false);
        }
        finally
        {
            injector.Raw(Munmap, (long)scratch, ScratchSize);
        }
        // A SIGSTOP that met an injected call while the process is kept frozen for a trip or a checkpoint: its image
        // records the stop, so that it stops wherever it runs next (a move that succeeds lets go of no process here
        // to send the stop again to), and home's deputy follows it (CheckpointEngine.MakeDeputy).
        if (stoppedBy == 0 && options.After == AfterDump.KeepFrozen && HeldStops.Holds(pid, others.Select(t => t.Tid))) stoppedBy = Signals.SIGSTOP;
        // Pending signals are read only now: a timer that expired while we injected has queued its signal (held by
        // the all-blocked mask), and getitimer above then reported it as due. Read earlier, both would be lost.
        var pending = Ptrace.PeekSignals(pid, shared: false).Select(s => new PendingSignal(false, s))
            .Concat(Ptrace.PeekSignals(pid, shared: true).Select(s => new PendingSignal(true, s))).ToList();
        List<ThreadImage> threads = [.. others.Select(t => ThreadStateReader.Read(t, settings[t.Tid], ResultOf(carriedOut, t.Tid)))];

        // Re-read: the scratch page is gone again, and the layout must be exactly what the pages describe.
        List<MemoryRegion> finalRegions = [.. ProcFs.ReadMaps(pid).Select(m => RegionBuilder.Build(pid, m))];
        var precopied = options.Precopy?.PlanFinal(finalRegions) ?? [];
        // Post-copy after pre-copy rounds: what the kept regions changed since the last round stays here too.
        var missing = options.LeaveLazyMemory && options.Precopy is not null ? Postcopy.LazyMemory.LeftMissing(precopied, finalRegions) : null;
        var image = new ProcessImage
        {
            Origin = new ImageOrigin
            {
                Pid = pid,
                Command = ProcFs.ReadComm(pid),
                ExecutablePath = SafeExe(pid),
                Arguments = ProcFs.ReadCommandLine(pid),
                Hostname = uname.NodeName,
                KernelRelease = uname.Release,
                KernelVersion = uname.Version,
                CpuFeatures = ProcessInspector.ReadCpuFeatures(),
                TakenAt = DateTimeOffset.UtcNow,
            },
            Cpu = new CpuState { GeneralRegisters = SyscallRestart.ForImage(original, ResultOf(carriedOut, pid)).ToBytes(), ExtendedState = xstate },
            Signals = new SignalState { BlockedMask = originalMask, Actions = DecodeActions(raw, status.SigCgt | status.SigIgn), Pending = pending, StoppedBy = stoppedBy },
            Timers = new IntervalTimers { Real = DecodeTimer(raw, 0), Virtual = DecodeTimer(raw, 1), Profiling = DecodeTimer(raw, 2) },
            Rseq = rseq is { } r ? new RseqRegistration(r.AbiPointer, r.AbiSize, r.Signature, r.Flags) : null,
            Attributes = new ProcessAttributes
            {
                WorkingDirectory = ProcFs.ReadWorkingDirectory(pid),
                Umask = status.Umask ?? 0x12, // 022, the usual default, on kernels without a Umask line
                Personality = ProcFs.ReadPersonality(pid),
                Credentials = ProcessInspector.ReadCredentials(status),
                Limits = ProcessInspector.ReadLimits(pid),
                StartBrk = stat.StartBrk,
                Nice = stat.Nice,
                Brk = brk,
                StartStack = stat.StartStack,
                ProcessGroup = stat.ProcessGroup,
                Auxv = ProcFs.ReadAuxv(pid),
                CachedTidAddress = ProcessInspector.FindCachedTid(pid, original.fs_base),
                MembarrierRegistrations = membarriers,
                Dumpable = dumpable,
                OomScoreAdjust = ProcFs.ReadOomScoreAdjust(pid),
                RobustListHead = robust.Head,
                RobustListLength = robust.Length,
            },
            Regions = finalRegions,
            Files = ProcessInspector.ReadFiles(pid, options.ForwardDescriptors, options.Forwarded, options.HomePaths),
            MainThread = mainSettings,
            Threads = threads,
            Precopy = options.Precopy?.Delta(precopied.Keys, missing),
        };
        if (early.Value is { } stale && !EarlyPages.SameContents(stale.Regions, finalRegions))
        {
            logger.LogDebug("Process {Pid}: layout changed while its state was read; its pages are gathered again", pid);
            stale.Abandon();
            early.Value = null;
        }
        logger.LogDebug("Process {Pid}: state read and injected in {Ms:F2} ms", pid, phase.Elapsed.TotalMilliseconds);
        // Nothing more is injected: every thread gets its own registers and signal mask back now, still stopped, not
        // only once its pages are out. The pages take long (seconds for a big process over a link), and a tracer that
        // dies meanwhile (omd SIGKILLed) lets its tracees go as they are: with the injector's registers they ran on
        // from the injected syscall and died of SIGSEGV; with their own they carry on where they were frozen.
        foreach (var thread in others) PutBack(thread.Tid, thread.Registers, thread.Mask);
        PutBack(pid, original, originalMask);
        phase.Restart();
        if (early.Value is { } pages)
        {
            pages.Release(image);
            tracer.WaitServingBrief(pages.Done);
            pages.Finish();
            image.StoredPageBytes = pages.StoredBytes;
            var (select, read, wait, chunks) = pages.Breakdown;
            logger.LogDebug("Process {Pid}: {Stored} of {Scanned} bytes stored {Ms:F2} ms after the state was read, gathered while it was ({Chunks} chunks: selecting pages {Select:F2} ms, reading {Read:F2} ms, waiting for the sink {Wait:F2} ms)",
                pid, pages.StoredBytes, pages.ScannedBytes, pages.AfterRelease.TotalMilliseconds, chunks, select.TotalMilliseconds, read.TotalMilliseconds, wait.TotalMilliseconds);
            return (image, image.StoredPageBytes);
        }
        // No ptrace from here on: the process stays stopped whoever reads its memory.
        tracer.Aside(() =>
        {
            sink.WriteMetadata(image);
            using var copier = new MemoryCopier(pid);
            foreach (var region in image.Regions.Where(RegionBuilder.HasContents))
            {
                // Left at home: a lazy region whole, or a kept one's changes (the image's Precopy.Missing).
                if (options.LeaveLazyMemory && Postcopy.LazyMemory.IsLazy(region)) continue;
                if (precopied.TryGetValue(region.Start, out var changed)) copier.CopyRanges(region, changed, sink);
                else copier.Copy(region, sink, options.BytesWritten);
            }
            var gathered = phase.Elapsed;
            copier.Finish();
            image.StoredPageBytes = copier.StoredBytes;
            var (select, read, wait, chunks) = copier.Breakdown;
            logger.LogDebug("Process {Pid}: {Stored} of {Scanned} bytes stored in {Ms:F2} ms ({Chunks} chunks: selecting pages {Select:F2} ms, reading {Read:F2} ms, waiting for the sink {Wait:F2} ms, last chunk to the sink {Last:F2} ms)",
                pid, copier.StoredBytes, copier.ScannedBytes, phase.Elapsed.TotalMilliseconds, chunks, select.TotalMilliseconds, read.TotalMilliseconds,
                wait.TotalMilliseconds, (phase.Elapsed - gathered).TotalMilliseconds);
            sink.Complete();
            return true;
        });
        return (image, image.StoredPageBytes);
    }

    private static string SafeExe(int pid)
    {
        try
        {
            return ProcFs.ReadExecutable(pid);
        }
        catch (ProcessAccessException)
        {
            return "";
        }
    }

    private static SignalAction[] DecodeActions(byte[] raw, ulong withAction)
    {
        var actions = new SignalAction[64];
        for (var sig = 1; sig <= 64; sig++)
        {
            if ((withAction & (1UL << (sig - 1))) == 0 || sig is Signals.SIGKILL or Signals.SIGSTOP) continue;
            var s = raw.AsSpan(SigactionSize * (sig - 1), SigactionSize);
            actions[sig - 1] = new SignalAction(
                BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), BinaryPrimitives.ReadUInt64LittleEndian(s[24..]));
        }
        return actions;
    }

    /// <summary>The results of interrupted calls that were carried out already, by thread (docs/forwarding.md).</summary>
    private static IReadOnlyDictionary<int, long> CarriedOut(ICarriedOutCalls? known, int pid, UserRegs original, List<ThreadStateReader.Frozen> others)
    {
        if (known is null) return new Dictionary<int, long>();
        List<InterruptedCall> calls = [.. others.Select(t => SyscallRestart.CallOf(t.Tid, t.Registers)).Prepend(SyscallRestart.CallOf(pid, original)).OfType<InterruptedCall>()];
        return calls.Count == 0 ? new Dictionary<int, long>() : known.ResultsOf(calls);
    }

    private static long? ResultOf(IReadOnlyDictionary<int, long> carriedOut, int tid) => carriedOut.TryGetValue(tid, out var result) ? result : null;

    private static TimerValue DecodeTimer(byte[] raw, int which)
    {
        var at = ItimervalOffset + ItimervalSize * which;
        long Micro(int field) => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(at + field)) * 1_000_000
                                 + BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(at + field + 8));
        var (interval, value) = (Micro(0), Micro(16));
        // A periodic ITIMER_REAL that has fired is re-armed by the kernel only when its SIGALRM is dequeued; until
        // then getitimer reports 0 left. That state is "due now", not "disarmed": it restarts with a full period.
        if (value == 0 && interval > 0) value = interval;
        return new TimerValue(interval, value);
    }

    private static void Resume(int pid, UserRegs original, ulong mask)
    {
        PutBack(pid, original, mask);
        HeldTraces.Detach(pid);
    }

    /// <summary>A stopped thread's own registers (its interrupted syscall set to restart) and signal mask.</summary>
    private static void PutBack(int tid, UserRegs original, ulong mask)
    {
        Ptrace.SetRegs(tid, SyscallRestart.Fix(original, sameProcess: true));
        Ptrace.SetSignalMask(tid, mask);
    }

    private static void TryResendStop(int pid)
    {
        try
        {
            HeldStops.Resend(pid);
        }
        catch (SyscallException)
        {
            // Gone meanwhile: nothing left to stop.
        }
    }

    private void TryResume(int pid, UserRegs original, ulong mask, bool isOurChild)
    {
        try
        {
            Resume(pid, original, mask);
        }
        catch (Exception e) when (KilledTracee.Is(e))
        {
            KilledTracee.Release(pid, isOurChild, logger);
        }
        catch (SyscallException e)
        {
            logger.LogWarning("Could not resume {Pid}: {Error}", pid, e.Message);
        }
    }

    // Our own child is left as a zombie for its owner to reap; anyone else's is reaped from the ptrace side.
    private static void WaitUntilDead(int pid, bool isOurChild)
    {
        if (isOurChild)
        {
            Waiting.WaitForExitWithoutReaping(pid);
            return;
        }
        while (true)
        {
            var status = Waiting.WaitPid(pid);
            if (!status.Stopped) return;
        }
    }
}
