namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// The kernel's syscall-restart logic, applied by hand: a process stopped inside an interrupted syscall has
/// rax = -ERESTART* and orig_rax = the call. Resuming from an injected syscall's exit stop (or in a new process)
/// skips the kernel's own fix-up, so the registers are rewritten to re-execute the call.
/// </summary>
internal static class SyscallRestart
{
    private const long ERESTARTSYS = -512, ERESTARTNOINTR = -513, ERESTARTNOHAND = -514, ERESTART_RESTARTBLOCK = -516;

    /// <param name="sameProcess">
    /// true when the registers go back into the process they came from: an interrupted sleep then continues with
    /// restart_syscall (its remaining time). In a new process the restart block is gone, so the original call is
    /// re-executed with its original arguments (a relative sleep sleeps its full interval again).
    /// </param>
    public static UserRegs Fix(UserRegs regs, bool sameProcess)
    {
        if ((long)regs.orig_rax >= 0)
        {
            switch ((long)regs.rax)
            {
                case ERESTARTSYS or ERESTARTNOINTR or ERESTARTNOHAND:
                    regs.rax = regs.orig_rax;
                    regs.rip -= 2;
                    break;
                case ERESTART_RESTARTBLOCK:
                    regs.rax = sameProcess ? (ulong)SyscallNumbers.RestartSyscall : regs.orig_rax;
                    regs.rip -= 2;
                    break;
            }
        }
        regs.orig_rax = ulong.MaxValue;
        return regs;
    }
}
