using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Reads one stopped thread's own state: what ptrace and /proc show of it, and what only the thread itself can
/// report (its alternate signal stack, its clear_child_tid, its securebits), by calls injected into it.
/// </summary>
internal static class ThreadStateReader
{
    private const long PrGetTidAddress = 40;
    private const int TidAddressOffset = 32;
    private const int SsOnStack = 1, SsDisable = 2;

    /// <summary>A thread stopped by the freeze, with the registers and mask it had.</summary>
    public sealed record Frozen(int Tid, UserRegs Registers, ulong Mask);

    /// <param name="scratch">40 bytes of writable memory in the process for the answers.</param>
    public static (ThreadSettings Settings, int Nice) ReadSettings(int pid, int tid, SyscallInjector injector, ulong scratch, bool main)
    {
        injector.Call($"sigaltstack of thread {tid}", Sigaltstack, 0, (long)scratch);
        // PR_GET_TID_ADDRESS exists with CONFIG_CHECKPOINT_RESTORE; without it, glibc's cached tid is the address.
        var tidAddress = injector.Raw(Prctl, PrGetTidAddress, (long)scratch + TidAddressOffset);
        Span<byte> raw = stackalloc byte[TidAddressOffset + 8];
        ProcessMemory.Read(pid, scratch, raw);
        var flags = BinaryPrimitives.ReadInt32LittleEndian(raw[8..]);
        var stat = ProcFs.ReadTaskStat(pid, tid);
        return (new ThreadSettings
        {
            Name = main ? "" : ProcFs.ReadTaskComm(pid, tid),
            AlternateStack = (flags & SsDisable) != 0 ? null
                : new AlternateStack(BinaryPrimitives.ReadUInt64LittleEndian(raw), BinaryPrimitives.ReadUInt64LittleEndian(raw[16..]), flags & ~SsOnStack),
            ClearChildTid = tidAddress == 0 ? BinaryPrimitives.ReadUInt64LittleEndian(raw[TidAddressOffset..]) : 0,
            SchedulingPolicy = stat.Policy,
            RealtimePriority = stat.RealtimePriority,
            Privileges = PrivilegeReader.Read(pid, tid, injector),
        }, stat.Nice);
    }

    /// <summary>The rest of a thread other than the main one; read after every injection (its pending signals last).</summary>
    public static ThreadImage Read(Frozen thread, (ThreadSettings Settings, int Nice) own, long? carriedOut)
    {
        var tid = thread.Tid;
        var robust = RobustList.Get(tid);
        return new ThreadImage
        {
            Tid = tid,
            GeneralRegisters = SyscallRestart.ForImage(thread.Registers, carriedOut).ToBytes(),
            ExtendedState = Ptrace.GetExtendedState(tid),
            BlockedMask = thread.Mask,
            Pending = [.. Ptrace.PeekSignals(tid, shared: false).Select(s => new PendingSignal(false, s))],
            Rseq = Ptrace.GetRseqConfiguration(tid) is { } r ? new RseqRegistration(r.AbiPointer, r.AbiSize, r.Signature, r.Flags) : null,
            RobustListHead = robust.Head,
            RobustListLength = robust.Length,
            CachedTidAddress = ProcessInspector.FindCachedTid(tid, thread.Registers.fs_base),
            Nice = own.Nice,
            Settings = own.Settings,
        };
    }
}
