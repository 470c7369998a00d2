using System.Text;
using OpenMosix.Checkpoint.Tree;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The stand-in session leader of a copy whose stdio is a terminal. At home such a program is a member of its
/// shell's session, not its leader; were the copy the leader of its pseudo-terminal's session here, its exit would
/// hang up (SIGHUP) its terminal's foreground group, its own, with whatever it left running there
/// (drivers/tty/tty_jobctrl.c disassociate_ctty, called from do_exit for a session leader). So a small process leads
/// the session instead: a stub spawned as a new session's leader, whose controlling terminal the pseudo-terminal
/// becomes. The copy's stub is born inside that session, cloned from the holder with CLONE_PARENT (so it is omd's
/// child with the holder's exit signal, SIGCHLD, as a spawned stub is: omd reaps it and waits for it as before), and executes its own stub ELF. Then the
/// holder lets go of every descriptor and runs <see cref="Code"/> untraced: it waits for the copy's end (a pidfd),
/// takes its terminal's foreground back for its own group as a shell does after its foreground job, and leaves once
/// the copy's group is empty (five times a second it asks kill(-group, 0)). Its own exit hangs up only its own group.
/// The copy's group has a keeper: a child of the holder, so of the session, that joins the copy's group and pauses
/// there with every signal blocked. At home the job's group is not orphaned (its shell, in the session, is a member's
/// parent); here the copy's parent, omd, is in another session, and the keeper is what keeps the group from being
/// orphaned, so that the kernel stops the copy by a terminal stop any process of this node sends it (SIGTSTP, SIGTTIN,
/// SIGTTOU: discarded in an orphaned group), and omd, its parent, sees it stop and tells home. The holder kills the
/// keeper once the copy ends (SIGCHLD ignored, so the kernel reaps it), and the keeper dies with the holder.
/// </summary>
internal static class SessionHolder
{
    private const long Ioctl = 16, TIOCSCTTY = 0x540E, PidfdOpen = 434, CloseRange = 436, CloneParent = 0x8000;
    /// <summary>Where the holder's code goes in its trampoline segment: above the data page and the clone scratch.</summary>
    private const ulong CodeOffset = 0x2000;
    private const ulong NameOffset = StubElf.DataOffset + 0x700;
    private const int PollFdAt = 0xc0, OwnGroupAt = 0xc8, CopyGroupAt = 0xcc, KeeperAt = 0xec;
    private const ulong KeeperCodeOffset = CodeOffset + 0x100, SigactionOffset = StubElf.DataOffset + 0x600;
    private const int Sigchld = 17, SigKill = 9;
    /// <summary>pause(); jmp back: every signal is blocked, so only SIGKILL ends it (SIGSTOP and SIGCONT stop and
    /// continue it, in the group as its members).</summary>
    private static readonly byte[] KeeperCode = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7];

    /// <summary>
    /// x86-64, position-independent, data at fixed offsets after the code:
    /// <code>
    /// wait:  poll(&amp;pollfd, 1, -1) until it returns 1           ; pollfd = { copy's pidfd, POLLIN }
    ///        fd = open("/dev/tty", O_RDWR|O_NOCTTY|O_CLOEXEC)
    ///        if fd >= 0: ioctl(fd, TIOCSPGRP, &amp;own); close(fd)  ; SIGTTOU is blocked: allowed from the background
    ///        if keeper > 0: kill(keeper, SIGKILL)
    /// group: if kill(-copy, 0) == -ESRCH: exit_group(0)
    ///        nanosleep(&amp;{0, 200 ms}, NULL); jmp group
    /// 0xc0: pollfd (int fd, short events = POLLIN), 0xc8: own group, 0xcc: minus the copy's group,
    /// 0xd0: timespec { 0, 200,000,000 }, 0xe0: "/dev/tty", 0xec: the keeper's PID (0: none)
    /// </code>
    /// The keeper's code is <see cref="KeeperCode"/>: pause() for ever.
    /// </summary>
    private static readonly byte[] Code = Build();

    private static byte[] Build()
    {
        byte[] text =
        [
            0xb8, 0x07, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0xb4, 0x00, 0x00, 0x00, 0xbe, 0x01, 0x00, 0x00,
            0x00, 0xba, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x05, 0x48, 0x83, 0xf8, 0x01, 0x75, 0xe2, 0xb8, 0x02,
            0x00, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0xb6, 0x00, 0x00, 0x00, 0xbe, 0x02, 0x01, 0x08, 0x00, 0x0f,
            0x05, 0x48, 0x85, 0xc0, 0x78, 0x23, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc7, 0xb8, 0x10, 0x00, 0x00,
            0x00, 0xbe, 0x10, 0x54, 0x00, 0x00, 0x48, 0x8d, 0x15, 0x7b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48,
            0x89, 0xdf, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x63, 0x3d, 0x8c, 0x00, 0x00, 0x00,
            0x48, 0x85, 0xff, 0x7e, 0x0c, 0xb8, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x09, 0x00, 0x00, 0x00, 0x0f,
            0x05, 0xb8, 0x3e, 0x00, 0x00, 0x00, 0x48, 0x63, 0x3d, 0x4f, 0x00, 0x00, 0x00, 0x31, 0xf6, 0x0f,
            0x05, 0x48, 0x83, 0xf8, 0xfd, 0x74, 0x12, 0xb8, 0x23, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0x3d,
            0x00, 0x00, 0x00, 0x31, 0xf6, 0x0f, 0x05, 0xeb, 0xd8, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff,
            0x0f, 0x05, 0xeb, 0xf5,
        ];
        var code = new byte[0xf0];
        text.CopyTo(code, 0);
        BinaryPrimitives.WriteInt16LittleEndian(code.AsSpan(PollFdAt + 4), 1); // POLLIN
        BinaryPrimitives.WriteInt64LittleEndian(code.AsSpan(0xd8), 200_000_000); // a fifth of a second
        Encoding.ASCII.GetBytes("/dev/tty").CopyTo(code, 0xe0);
        return code;
    }

    /// <summary>
    /// Spawns the holder with <paramref name="descriptors"/> (the copy's: it inherits them from the holder), gives its
    /// session the terminal at <paramref name="terminalFd"/>, and makes the copy's stub from it (with
    /// <paramref name="wantedPid"/> if free, else any PID), stopped at its entry under our trace; the holder is let
    /// go. Returns both PIDs. A failure kills whatever was made (the holder, which is ours to reap, is collected).
    /// </summary>
    public static (int Stub, int Holder) Make(byte[] elf, ulong trampoline, IReadOnlyDictionary<int, int> descriptors, int terminalFd,
        int wantedPid, int traceOptions, ILogger logger)
    {
        var holder = StubSpawner.Spawn(StubElf.Build(trampoline, 0), descriptors, 0, logger, newSession: true);
        var stub = 0;
        try
        {
            Freezer.SeizeAndStop(holder, traceOptions);
            Ptrace.SetSignalMask(holder, ulong.MaxValue);
            var injector = new SyscallInjector(holder, trampoline + StubElf.SyscallOffset, Ptrace.GetRegs(holder));
            var parent = new ParentStub(holder, injector, trampoline);
            ProcessMemory.Write(holder, trampoline + NameOffset, "om-session\0"u8);
            injector.Call("prctl(PR_SET_NAME)", Prctl, PrSetName, (long)(trampoline + NameOffset));
            injector.Call("ioctl(TIOCSCTTY)", Ioctl, terminalFd, TIOCSCTTY, 0);
            stub = StubSpawner.WithStubFile(elf, path =>
            {
                int made;
                try
                {
                    made = ChildStubs.Fork(parent, wantedPid, 0, CloneParent);
                }
                catch (RestoreException e) when (wantedPid > 0)
                {
                    logger.LogDebug("Stub could not take PID {Pid} ({Error}); taking any PID", wantedPid, e.Message);
                    made = ChildStubs.Fork(parent, 0, 0, CloneParent);
                }
                stub = made;
                ChildStubs.Exec(made, parent, path);
                return made;
            });
            // The holder keeps none of the copy's descriptors: a relay pipe or the terminal held open here would never end.
            injector.Call("close_range", CloseRange, 0, uint.MaxValue, 0);
            var pidfd = injector.Call("pidfd_open", PidfdOpen, stub, 0);
            var keeper = MakeKeeper(parent, trampoline, stub, logger);
            var code = (byte[])Code.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(PollFdAt), (int)pidfd);
            BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(OwnGroupAt), holder);
            BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(CopyGroupAt), -stub);
            BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(KeeperAt), keeper);
            ProcessMemory.Write(holder, trampoline + CodeOffset, code);
            RunFrom(holder, trampoline + CodeOffset);
            return (stub, holder);
        }
        catch
        {
            if (stub > 0) Kill(stub);
            Kill(holder);
            throw;
        }
    }

    /// <summary>Lets a stopped tracee go at <paramref name="code"/>, written into it: no syscall to restart there.</summary>
    private static void RunFrom(int pid, ulong code)
    {
        var regs = Ptrace.GetRegs(pid);
        regs.rip = code;
        regs.orig_rax = ulong.MaxValue;
        Ptrace.SetRegs(pid, regs);
        Ptrace.Detach(pid);
    }

    /// <summary>
    /// Makes the copy's stub the leader of a group of its own (which the restore keeps: the copy's group is its own
    /// here, as a job's is) and the keeper a member of it: a fork of the holder, so a child of the session's leader in
    /// another group, with every signal blocked, dying with the holder. Returns its PID, or 0 where it could not be made:
    /// the copy then runs as before, its group orphaned here (logged).
    /// </summary>
    private static int MakeKeeper(ParentStub holder, ulong trampoline, int stub, ILogger logger)
    {
        var keeper = 0;
        try
        {
            var regs = Ptrace.GetRegs(stub);
            new SyscallInjector(stub, trampoline + StubElf.SyscallOffset, regs).Call("setpgid of the copy", Setpgid, 0, 0);
            Ptrace.SetRegs(stub, regs);
            // SIG_IGN for SIGCHLD: the keeper, once killed, is reaped by the kernel (a zombie would stay in the group).
            // The copy's stub, born before, keeps the default.
            var ignore = new byte[32];
            BinaryPrimitives.WriteInt64LittleEndian(ignore, 1); // SIG_IGN
            ProcessMemory.Write(holder.Pid, trampoline + SigactionOffset, ignore);
            holder.Injector.Call("rt_sigaction(SIGCHLD)", RtSigaction, Sigchld, (long)(trampoline + SigactionOffset), 0, 8);
            keeper = ChildStubs.Fork(holder, 0, Sigchld, 0);
            holder.Injector.Call("setpgid of the keeper", Setpgid, keeper, stub);
            var own = new SyscallInjector(keeper, trampoline + StubElf.SyscallOffset, Ptrace.GetRegs(keeper));
            own.Call("prctl(PR_SET_PDEATHSIG)", Prctl, PrSetPdeathsig, SigKill);
            ProcessMemory.Write(keeper, trampoline + KeeperCodeOffset, KeeperCode);
            RunFrom(keeper, trampoline + KeeperCodeOffset);
            return keeper;
        }
        catch (Exception e) when (e is RestoreException or InjectionException or SyscallException or TraceeGoneException)
        {
            logger.LogWarning("Process {Pid}: no keeper for its group ({Error}); terminal stops sent to it on this node are discarded", stub, e.Message);
            if (keeper > 0) Kill(keeper);
            return 0;
        }
    }

    private static void Kill(int pid)
    {
        Signals.Kill(pid, Signals.SIGKILL);
        try
        {
            while (Waiting.WaitPid(pid, Waiting.WALL).Stopped)
            {
                // stops queued before the kill come out first
            }
        }
        catch (SyscallException)
        {
            // collected already
        }
    }
}
