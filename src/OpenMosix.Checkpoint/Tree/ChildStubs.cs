using System.Text;
using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// Makes the processes of a restored tree below its root as children of their parents' stubs, never of the
/// restorer: a clone3 injected into the parent's stub (with the child's old PID, and its exit signal), traced from
/// birth (PTRACE_O_TRACEFORK), then an execve injected into the child of the child's own stub ELF. The child is
/// then a fresh stub like a spawned one (address randomisation off and the large stack limit inherited from its
/// parent's stub), but its parent is the right one, so wait, waitpid and SIGCHLD work once the tree runs.
/// </summary>
internal static class ChildStubs
{
    private const int CloneArgsSize = 88, ExitSignalOffset = 32, SetTidOffset = 64, SetTidSizeOffset = 72;
    /// <summary>Scratch in the trampoline's data page, above what the process builder puts there.</summary>
    private const ulong ScratchOffset = StubElf.DataOffset + 0x800;
    private const int TraceOptions = Ptrace.O_TRACESYSGOOD | Ptrace.O_EXITKILL;
    private const int RlimitCore = 4;

    /// <summary>A child of <paramref name="parent"/> with <paramref name="child"/>'s PID, stopped at its new stub's
    /// entry. Its PID must be free: a parent knows its children by PID.</summary>
    public static int Make(ParentStub parent, TreeProcess child, byte[] elf) =>
        StubSpawner.WithStubFile(elf, path =>
        {
            var pid = Fork(parent, child);
            try
            {
                Exec(pid, parent, path);
                return pid;
            }
            catch
            {
                Signals.Kill(pid, Signals.SIGKILL);
                Collect(pid);
                throw;
            }
        });

    /// <summary>An exited child not yet waited for: forked like the others, then ended with its saved status, and
    /// left for its parent to collect.</summary>
    public static void MakeExited(ParentStub parent, TreeProcess child, int status)
    {
        var pid = Fork(parent, child);
        var injector = new SyscallInjector(pid, parent.SyscallInstruction, Ptrace.GetRegs(pid));
        try
        {
            var signal = status & 0x7f;
            if (signal == 0)
            {
                injector.Raw(ExitGroup, (status >> 8) & 0xff);
                throw new RestoreException($"exited child {child.Pid} did not exit");
            }
            // No core file of a stub: the status says whether the original dumped one.
            ProcessMemory.Write(pid, parent.Trampoline + ScratchOffset, new byte[16]);
            injector.Call("prlimit(RLIMIT_CORE)", Prlimit64, 0, RlimitCore, (long)(parent.Trampoline + ScratchOffset), 0);
            Ptrace.SetSignalMask(pid, 0);
            Signals.Kill(pid, signal);
            var deliver = 0;
            while (true)
            {
                Ptrace.Continue(pid, deliver);
                var stop = Waiting.WaitPid(pid, Waiting.WALL);
                if (!stop.Stopped) return;
                deliver = stop.StopSignal == signal ? signal : 0;
            }
        }
        catch (TraceeGoneException)
        {
            // ended as it should, collected by us as its tracer: a zombie for its parent now
        }
    }

    private static int Fork(ParentStub parent, TreeProcess child) => Fork(parent, child.Pid, child.ExitSignal, 0);

    /// <summary>A child of <paramref name="parent"/> (with <paramref name="flags"/>, clone3's: CLONE_PARENT makes it its
    /// parent's sibling instead, and then <paramref name="exitSignal"/> must be 0) under PID <paramref name="pid"/> (0: any) in the parent's
    /// PID namespace, seized and stopped at its birth. Returns its PID in ours.</summary>
    internal static int Fork(ParentStub parent, int pid, int exitSignal, ulong flags)
    {
        Span<byte> args = stackalloc byte[CloneArgsSize + 8];
        args.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(args, flags);
        BinaryPrimitives.WriteUInt64LittleEndian(args[ExitSignalOffset..], (ulong)exitSignal);
        if (pid > 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(args[SetTidOffset..], parent.Trampoline + ScratchOffset + CloneArgsSize);
            BinaryPrimitives.WriteUInt64LittleEndian(args[SetTidSizeOffset..], 1);
            BinaryPrimitives.WriteInt32LittleEndian(args[CloneArgsSize..], pid);
        }
        ProcessMemory.Write(parent.Pid, parent.Trampoline + ScratchOffset, args);
        // With CLONE_PARENT clone3 takes no exit signal (the child gets its parent's): ptrace reports a clone then.
        Ptrace.SetOptions(parent.Pid, TraceOptions | Ptrace.O_TRACEFORK | Ptrace.O_TRACECLONE);
        long made;
        try
        {
            made = parent.Injector.Raw(Clone3, (long)(parent.Trampoline + ScratchOffset), CloneArgsSize);
        }
        finally
        {
            Ptrace.SetOptions(parent.Pid, TraceOptions);
        }
        if (made < 0)
            throw new RestoreException(made == -(long)Errno.EEXIST
                ? $"PID {pid} of the tree was taken here meanwhile: its parent knows it by that PID"
                : $"cannot make process {pid} as a child of {parent.Pid}: {Errno.FromNegated(made).Describe()}");
        // clone3 answers in the parent's own PID namespace, ptrace in ours: inside a tree's namespace of its own
        // (TreePidNamespace) the child's PID there is the one asked for, and ours another.
        var child = parent.Injector.LastCloned;
        if (made != child && (pid <= 0 || made != pid)) throw new RestoreException($"clone3 returned {made}, but ptrace reported {child}");
        Freezer.WaitForEventStop((int)child);
        Ptrace.SetOptions((int)child, TraceOptions);
        return (int)child;
    }

    /// <summary>Executes the stub ELF at <paramref name="path"/> in <paramref name="pid"/>, a fork of
    /// <paramref name="parent"/>'s stub stopped under our trace: a fresh stub then, stopped at its entry.</summary>
    internal static void Exec(int pid, ParentStub parent, string path)
    {
        // argv = { "om-restore", NULL }, envp = { NULL }, then the strings.
        var at = parent.Trampoline + ScratchOffset;
        var name = Encoding.ASCII.GetBytes("om-restore\0");
        var file = Encoding.UTF8.GetBytes(path + "\0");
        var block = new byte[24 + name.Length + file.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(block, at + 24);
        name.CopyTo(block, 24);
        file.CopyTo(block, 24 + name.Length);
        ProcessMemory.Write(pid, at, block);
        var injector = new SyscallInjector(pid, parent.SyscallInstruction, Ptrace.GetRegs(pid));
        var result = injector.Raw(Execve, (long)at + 24 + name.Length, (long)at, (long)at + 16);
        if (result != 0) throw new RestoreException($"the stub of process {pid} could not be executed: {Errno.FromNegated(result).Describe()}");
    }

    private static void Collect(int pid)
    {
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

/// <summary>A stub the tree's children are made from: its PID, its injector and where its trampoline lies.</summary>
internal sealed record ParentStub(int Pid, SyscallInjector Injector, ulong Trampoline)
{
    public ulong SyscallInstruction => Trampoline + StubElf.SyscallOffset;
}
