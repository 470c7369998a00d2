using System.Text;
using OpenMosix.Checkpoint.Dump;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The threads of a restore: each one recreated by a clone3 injected into the main thread (with its old id where
/// that is free, which needs CAP_CHECKPOINT_RESTORE: so before the credentials drop), stopped at birth by
/// PTRACE_O_TRACECLONE, then given what only a thread can set for itself by calls injected into it.
/// </summary>
internal sealed partial class ProcessBuilder
{
    private const long CloneVm = 0x100, CloneFs = 0x200, CloneFiles = 0x400, CloneSighand = 0x800, CloneThread = 0x10000, CloneSysvsem = 0x40000;
    private const long CloneThreadFlags = CloneVm | CloneFs | CloneFiles | CloneSighand | CloneThread | CloneSysvsem;
    private const long CloneChildCleartid = 0x200000;
    private const int CloneArgsSize = 88, ChildTidOffset = 16, SetTidOffset = 64, SetTidSizeOffset = 72;
    private const int SsAutoDisarm = unchecked((int)0x80000000);

    /// <summary>The process is rebuilt in its tree's PID namespace of its own (TreePidNamespace), where its ids and
    /// its threads' are the old ones, whatever they are here.</summary>
    public bool InnerIds { get; init; }

    /// <summary>How long <see cref="CreateThreads"/> waited for ids the original process still held.</summary>
    public TimeSpan WaitedForIds { get; private set; }

    /// <summary>How many threads <see cref="CreateThreads"/> found locking a robust mutex (given the longer wait).</summary>
    public int LockersWaitedFor { get; private set; }

    /// <summary>The old ids of the threads locking a robust mutex that still got new ones (their id was someone else's).</summary>
    public List<int> LockersRenamed { get; } = [];

    /// <summary>A thread recreated in the restored process: stopped, every signal blocked, with the injector that drives it.</summary>
    public sealed record RestoredThread(ThreadImage Image, int Tid, SyscallInjector Injector);

    /// <param name="traceOptions">the ptrace options the main thread was seized with; new threads inherit them.</param>
    /// <param name="waitUntil">until when a thread waits for its old id while the original process still holds it.</param>
    /// <param name="lockersWaitUntil">the same for a thread taken while locking a robust mutex (<see cref="RobustLockers"/>).</param>
    public List<RestoredThread> CreateThreads(int traceOptions, DateTime waitUntil, DateTime lockersWaitUntil)
    {
        if (image.Threads.Count == 0) return [];
        Ptrace.SetOptions(pid, traceOptions | Ptrace.O_TRACECLONE);
        var created = new List<RestoredThread>(image.Threads.Count);
        foreach (var thread in image.Threads)
        {
            // Read only when it changes something: a copy fetching its memory (post-copy) waits no longer anyway.
            var locking = lockersWaitUntil > waitUntil && !InnerIds && RobustLockers.MayBeLocking(pid, thread.RobustListHead, thread.Tid);
            if (locking)
            {
                LockersWaitedFor++;
                logger.LogInformation("Process {Pid}: thread {Tid} was locking a robust mutex; it waits for its id until {Until:HH:mm:ss.fff} UTC while the original holds it",
                    pid, thread.Tid, lockersWaitUntil);
            }
            var tid = Clone(thread.Tid, ClearChildTid(thread), locking ? lockersWaitUntil : waitUntil);
            if (locking && tid != thread.Tid) LockersRenamed.Add(thread.Tid);
            Freezer.WaitForEventStop(tid);
            Ptrace.SetSignalMask(tid, ulong.MaxValue);
            created.Add(new RestoredThread(thread, tid, new SyscallInjector(tid, injector.SyscallInstruction, Ptrace.GetRegs(tid)).WithoutStack()));
        }
        return created;
    }

    /// <summary>clone3 of a thread sharing everything; with its old id when free, else with the id the kernel gives.</summary>
    /// <param name="clearChildTid">its clear_child_tid, set by the clone itself (CLONE_CHILD_CLEARTID) to save a call.</param>
    private int Clone(int wantedTid, ulong clearChildTid, DateTime waitUntil)
    {
        Span<byte> args = stackalloc byte[CloneArgsSize + 8];
        args.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(args, CloneThreadFlags | (clearChildTid != 0 ? CloneChildCleartid : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(args[ChildTidOffset..], clearChildTid);
        BinaryPrimitives.WriteUInt64LittleEndian(args[SetTidOffset..], _data + CloneArgsSize);
        BinaryPrimitives.WriteUInt64LittleEndian(args[SetTidSizeOffset..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(args[CloneArgsSize..], wantedTid);
        // An id in use here (the original still runs beside its copy) is not asked for when there is no waiting for it.
        // In a tree's PID namespace of its own every id of the tree is free.
        var taken = !InnerIds && DateTime.UtcNow >= waitUntil && Directory.Exists($"/proc/{wantedTid}");
        if (taken) args[SetTidOffset..].Clear();
        ProcessMemory.Write(pid, _data, args);
        var tid = injector.Raw(Clone3, (long)_data, CloneArgsSize);
        var waitedFrom = System.Diagnostics.Stopwatch.GetTimestamp();
        var waited = false;
        while (!InnerIds && tid == -(long)Errno.EEXIST && DateTime.UtcNow < waitUntil && HeldByOriginal(wantedTid))
        {
            waited = true;
            Thread.Sleep(1);
            tid = injector.Raw(Clone3, (long)_data, CloneArgsSize);
        }
        if (waited) WaitedForIds += System.Diagnostics.Stopwatch.GetElapsedTime(waitedFrom);
        if (tid < 0 && InnerIds) throw new RestoreException($"thread {wantedTid} cannot have its id in its tree's PID namespace: {Errno.FromNegated(tid).Describe()}");
        if (InnerIds) return injector.LastCloned; // the id asked for there, another one here
        if (tid < 0)
        {
            // EEXIST: the id is taken here; EPERM: no CAP_CHECKPOINT_RESTORE. Either way any id will do.
            args[SetTidOffset..].Clear();
            ProcessMemory.Write(pid, _data, args[..CloneArgsSize]);
            tid = injector.Call("clone3 of a thread", Clone3, (long)_data, CloneArgsSize);
        }
        if (tid != injector.LastCloned) throw new RestoreException($"clone3 returned thread {tid}, but ptrace reported {injector.LastCloned}");
        return (int)tid;
    }

    /// <summary>Whether <paramref name="tid"/> is a thread of the process the image was taken from (or already free).</summary>
    private bool HeldByOriginal(int tid)
    {
        try
        {
            return ProcFs.ReadStatus(tid).Tgid == image.Origin.Pid;
        }
        catch (ProcessAccessException)
        {
            return true; // gone meanwhile: try again
        }
    }

    /// <summary>Everything of a recreated thread that is set from inside it, and its private pending signals.</summary>
    public void RestoreThreadState(RestoredThread thread)
    {
        var t = thread.Image;
        // clear_child_tid was set by the clone.
        RestoreRegistrations(thread.Injector, thread.Tid, t.Tid, t.Rseq, t.RobustListHead, t.RobustListLength, 0, t.CachedTidAddress);
        RestoreSettings(thread.Injector, t.Settings, inheritedName: MainThreadName);
        foreach (var p in t.Pending)
        {
            if (p.SigInfo.Length != Ptrace.SigInfoSize) throw new CorruptImageException("pending signal info must be 128 bytes");
            // Queued by the thread itself: the kernel lets only the target thread queue a signal that claims to come
            // from kill() or tgkill() (si_code SI_USER, SI_TKILL).
            thread.Injector.Call($"rt_tgsigqueueinfo({p.Number}) for thread {thread.Tid}", RtTgsigqueueinfo, InnerIds ? image.Origin.Pid : pid, InnerIds ? thread.Image.Tid : thread.Tid, p.Number, (long)Put(p.SigInfo));
        }
    }

    /// <summary>
    /// rseq, the robust futex list and clear_child_tid belong to a thread and are registered by it; glibc's cached
    /// tid follows a tid that changed (the robust mutexes it holds follow once every thread exists: <see cref="ThreadFinish"/>).
    /// </summary>
    private void RestoreRegistrations(SyscallInjector inThread, int tid, int oldTid, RseqRegistration? rseq,
        ulong robustHead, ulong robustLength, ulong clearChildTid, ulong cachedTidAddress)
    {
        if (robustHead != 0) inThread.Call("set_robust_list", SetRobustList, (long)robustHead, (long)robustLength);
        if (rseq is { } r) inThread.Call("rseq", Rseq, (long)r.Address, r.Length, 0, r.Signature);
        if (clearChildTid != 0) inThread.Call("set_tid_address", SetTidAddress, (long)clearChildTid);
        // In a tree's PID namespace of its own the process sees its old ids: the cached one is right.
        if (tid == oldTid || InnerIds) return;
        if (cachedTidAddress != 0)
        {
            Span<byte> value = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(value, tid);
            ProcessMemory.Write(pid, cachedTidAddress, value);
        }
    }

    private static ulong ClearChildTid(ThreadImage t) => t.Settings.ClearChildTid != 0 ? t.Settings.ClearChildTid : t.CachedTidAddress;

    /// <summary>The main thread's name as restored, which a thread it clones starts with.</summary>
    private string MainThreadName => TruncatedName(image.Origin.Command);

    private static string TruncatedName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        return Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 15));
    }

    /// <summary>The alternate signal stack, the name and the scheduling class: a thread sets them for itself.</summary>
    private void RestoreSettings(SyscallInjector inThread, ThreadSettings settings, string? inheritedName = null)
    {
        if (settings.AlternateStack is { } stack)
        {
            Span<byte> ss = stackalloc byte[24];
            BinaryPrimitives.WriteUInt64LittleEndian(ss, stack.Base);
            BinaryPrimitives.WriteInt32LittleEndian(ss[8..], stack.Flags & SsAutoDisarm);
            BinaryPrimitives.WriteUInt64LittleEndian(ss[16..], stack.Size);
            inThread.Call("sigaltstack", Sigaltstack, (long)Put(ss), 0);
        }
        if (settings.Name.Length > 0 && TruncatedName(settings.Name) != inheritedName)
            inThread.Call("prctl(PR_SET_NAME)", Prctl, PrSetName, (long)PutString(TruncatedName(settings.Name)));
        if (settings.SchedulingPolicy != 0)
        {
            Span<byte> param = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(param, settings.RealtimePriority);
            if (inThread.Raw(SchedSetscheduler, 0, settings.SchedulingPolicy, (long)Put(param)) is var r and < 0)
                logger.LogWarning("Scheduling policy {Policy} of thread {Tid} cannot be set here ({Error}); it runs as SCHED_OTHER", settings.SchedulingPolicy, inThread.Pid, Errno.FromNegated(r).Name());
        }
    }

    /// <summary>Groups, gids and uids belong to each thread (glibc's setuid changes them in all), as do capabilities,
    /// securebits and no_new_privs: every thread drops to its own.</summary>
    /// <param name="securebits">the main thread's securebits when it cloned the thread (<see cref="MainSecurebits"/>),
    /// which the thread inherited and has not changed since.</param>
    public void RestoreThreadCredentials(RestoredThread thread, int securebits) =>
        DropTo(thread.Injector, thread.Tid, thread.Image.Settings.Privileges, securebits);

    /// <summary>The main thread's securebits, read once before its threads are cloned: they inherit them.</summary>
    public int MainSecurebits() => Securebits(injector);
}
