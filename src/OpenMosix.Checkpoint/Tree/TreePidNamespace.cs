using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// A PID namespace of a restored tree's own, in which every member keeps the PID it had, whatever this node's own
/// namespace holds. A parent knows its children by PID (a shell's job table, make's list of jobs); on a node that
/// shares one PID namespace with their home (an `om lab`), or where the PIDs are simply taken, the tree can only be
/// rebuilt as a tree if its PIDs are its own. Made as CRIU does, from outside: a holder stub (spawned, this process's
/// child) unshares its children's PID namespace and its mount namespace (made a slave of this node's, so nothing
/// mounted in it reaches the node); its first fork (CLONE_PARENT: this process's child too) is the namespace's init,
/// its second the root's stub under the root's PID there, which executes its own stub ELF. The holder then goes.
/// Seen from this node every member has another PID (the one the tracer, omd and /proc here use), seen from inside
/// the original one: wait4, kill, getppid and SIGCHLD between members need no translation. Once every stub is made
/// (they are executed from this process's /proc), <see cref="Seal"/> mounts a /proc of the namespace on the tree's
/// /proc, so that /proc/self and /proc/self/task/TID (glibc's thread names) name the members as they see themselves,
/// and lets the init run <see cref="InitCode"/> untraced: it reaps what is orphaned in the namespace and leaves once
/// nothing else is left in it (kill(-1, 0) answers ESRCH), which ends the namespace. Being this process's child, it
/// is reaped as a session holder is.
/// </summary>
internal sealed class TreePidNamespace
{
    private const long Unshare = 272, Mount = 165, CloseRange = 436, CloneParent = 0x8000, CloneNewPid = 0x20000000, CloneNewNs = 0x20000;
    private const long MsNosuid = 2, MsNodev = 4, MsNoexec = 8, MsRec = 0x4000, MsSlave = 0x80000;
    private const ulong CodeOffset = 0x2000;
    private const ulong NameOffset = StubElf.DataOffset + 0x700, MountOffset = StubElf.DataOffset + 0x740;
    private readonly ulong _trampoline;

    private TreePidNamespace(int init, ulong trampoline)
    {
        Init = init;
        _trampoline = trampoline;
    }

    /// <summary>The namespace's init as this node sees it: stopped under our trace until <see cref="Seal"/>.</summary>
    public int Init { get; }

    /// <summary>
    /// x86-64, position-independent:
    /// <code>
    /// reap: while wait4(-1, NULL, WNOHANG|__WALL, NULL) > 0: reap again
    ///       if kill(-1, 0) == -ESRCH: exit_group(0)                   ; no other process in the namespace
    ///       nanosleep(&amp;{0, 200 ms}, NULL); jmp reap
    /// 0x50: timespec { 0, 200,000,000 }
    /// </code>
    /// </summary>
    private static readonly byte[] InitCode =
    [
        0xb8, 0x3d, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff, 0x31, 0xf6, 0xba, 0x01,
        0x00, 0x00, 0x40, 0x45, 0x31, 0xd2, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x7f, 0xe3, 0xb8, 0x3e, 0x00,
        0x00, 0x00, 0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff, 0x31, 0xf6, 0x0f, 0x05, 0x48, 0x83, 0xf8,
        0xfd, 0x74, 0x12, 0xb8, 0x23, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0x11, 0x00, 0x00, 0x00, 0x31,
        0xf6, 0x0f, 0x05, 0xeb, 0xbb, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05, 0xeb, 0xf5,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc2, 0xeb, 0x0b, 0x00, 0x00, 0x00, 0x00,
    ];

    /// <summary>
    /// Makes the namespace and the root's stub in it under <paramref name="rootPid"/>, with
    /// <paramref name="descriptors"/>, stopped at its entry under our trace (a child of this process, as a spawned
    /// stub is). Returns the stub's PID here and the init's (ours to reap). A failure kills whatever was made.
    /// </summary>
    public static (int Stub, TreePidNamespace Namespace) MakeRoot(byte[] elf, ulong trampoline, IReadOnlyDictionary<int, int> descriptors, int rootPid,
        int traceOptions, ILogger logger)
    {
        var holder = StubSpawner.Spawn(StubElf.Build(trampoline, 0), descriptors, 0, logger);
        int init = 0, stub = 0;
        try
        {
            Freezer.SeizeAndStop(holder, traceOptions);
            Ptrace.SetSignalMask(holder, ulong.MaxValue);
            var injector = new SyscallInjector(holder, trampoline + StubElf.SyscallOffset, Ptrace.GetRegs(holder));
            var parent = new ParentStub(holder, injector, trampoline);
            injector.Call("unshare(CLONE_NEWPID|CLONE_NEWNS)", Unshare, CloneNewPid | CloneNewNs);
            ProcessMemory.Write(holder, trampoline + MountOffset, "/\0"u8);
            injector.Call("mount(/, MS_REC|MS_SLAVE)", Mount, 0, (long)(trampoline + MountOffset), 0, MsRec | MsSlave, 0);
            // The first process of a namespace is its init (PID 1); the kernel makes no other there before it.
            init = ChildStubs.Fork(parent, 0, 0, CloneParent);
            stub = StubSpawner.WithStubFile(elf, path =>
            {
                var made = ChildStubs.Fork(parent, rootPid, 0, CloneParent);
                stub = made;
                ChildStubs.Exec(made, parent, path);
                return made;
            });
            logger.LogDebug("Tree root {Pid} made as {Stub} in a PID namespace of its own (init {Init})", rootPid, stub, init);
            return (stub, new TreePidNamespace(init, trampoline));
        }
        catch
        {
            if (stub > 0) Kill(stub);
            if (init > 0) Kill(init);
            throw;
        }
        finally
        {
            Kill(holder);
        }
    }

    /// <summary>Every stub of the tree is made: the namespace's /proc is mounted (by the init: a /proc shows the
    /// namespace of whoever mounts it), and the init keeps none of the root's descriptors (a relay pipe held open
    /// here would never end), is named, and runs its loop, untraced.</summary>
    public void Seal()
    {
        var (init, trampoline) = (Init, _trampoline);
        var injector = new SyscallInjector(init, trampoline + StubElf.SyscallOffset, Ptrace.GetRegs(init));
        ProcessMemory.Write(init, trampoline + MountOffset, "proc\0/proc\0"u8);
        injector.Call("mount(proc)", Mount, (long)(trampoline + MountOffset), (long)(trampoline + MountOffset + 5),
            (long)(trampoline + MountOffset), MsNosuid | MsNodev | MsNoexec, 0);
        injector.Call("close_range", CloseRange, 0, uint.MaxValue, 0);
        ProcessMemory.Write(init, trampoline + NameOffset, "om-tree-init\0"u8);
        injector.Call("prctl(PR_SET_NAME)", Prctl, PrSetName, (long)(trampoline + NameOffset));
        ProcessMemory.Write(init, trampoline + CodeOffset, InitCode);
        var regs = Ptrace.GetRegs(init);
        regs.rip = trampoline + CodeOffset;
        regs.orig_rax = ulong.MaxValue;
        Ptrace.SetRegs(init, regs);
        Ptrace.Detach(init);
    }

    /// <summary>The tree is not rebuilt after all: the init goes, collected here.</summary>
    public void Abandon() => Kill(Init);

    private static void Kill(int pid)
    {
        try
        {
            Signals.Kill(pid, Signals.SIGKILL);
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
