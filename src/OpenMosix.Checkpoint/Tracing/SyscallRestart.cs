using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// The kernel's syscall-restart logic, applied by hand: a process stopped inside an interrupted syscall has
/// rax = -ERESTART* and orig_rax = the call. Resuming from an injected syscall's exit stop (or in a new process)
/// skips the kernel's own fix-up, so the registers are rewritten to re-execute the call.
/// </summary>
internal static class SyscallRestart
{
    private const long ERESTARTSYS = -512, ERESTARTNOINTR = -513, ERESTARTNOHAND = -514, ERESTART_RESTARTBLOCK = -516;

    /// <summary>poll, select, ppoll, pselect6, epoll_wait, epoll_pwait, epoll_pwait2: waits for readiness, re-executed
    /// with their own arguments rather than through restart_syscall even in the same process. A process interrupted
    /// twice (a pre-copy's set-up, then the freeze) is otherwise caught inside restart_syscall, which names no call,
    /// and restart_syscall in the new process fails with EINTR. Re-executed, the wait's timeout starts again, as it
    /// does in a new process anyway.</summary>
    private static readonly HashSet<ulong> ReadinessWaits = [7, 23, 271, 270, 232, 281, 441];

    /// <param name="sameProcess">
    /// true when the registers go back into the process they came from: an interrupted sleep then continues with
    /// restart_syscall (its remaining time). In a new process the restart block is gone, so the original call is
    /// re-executed with its original arguments (a relative sleep sleeps its full interval again).
    /// </param>
    public static UserRegs Fix(UserRegs regs, bool sameProcess)
    {
        if (IsInterrupted(regs))
        {
            switch ((long)regs.rax)
            {
                case ERESTARTSYS or ERESTARTNOINTR or ERESTARTNOHAND:
                    regs.rax = regs.orig_rax;
                    regs.rip -= 2;
                    break;
                case ERESTART_RESTARTBLOCK:
                    regs.rax = sameProcess && !ReadinessWaits.Contains(regs.orig_rax) ? (ulong)SyscallNumbers.RestartSyscall : regs.orig_rax;
                    regs.rip -= 2;
                    break;
            }
        }
        regs.orig_rax = ulong.MaxValue;
        return regs;
    }

    private static bool IsInterrupted(UserRegs regs) =>
        (long)regs.orig_rax >= 0 && (long)regs.rax is ERESTARTSYS or ERESTARTNOINTR or ERESTARTNOHAND or ERESTART_RESTARTBLOCK;

    /// <summary>The call a stopped thread was interrupted in and would make again, or null.</summary>
    public static InterruptedCall? CallOf(int tid, UserRegs regs) => IsInterrupted(regs)
        ? new InterruptedCall(tid, (long)regs.orig_rax, [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9])
        : null;

    /// <summary>The registers for an image: the interrupted call returned <paramref name="carriedOut"/> when it was
    /// carried out already (not made again), else it is made again as in any new process.</summary>
    public static UserRegs ForImage(UserRegs regs, long? carriedOut)
    {
        if (carriedOut is not { } result || !IsInterrupted(regs)) return Fix(regs, sameProcess: false);
        regs.rax = unchecked((ulong)result);
        regs.orig_rax = ulong.MaxValue;
        return regs;
    }
}
