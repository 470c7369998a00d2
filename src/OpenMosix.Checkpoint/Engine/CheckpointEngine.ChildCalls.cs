using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>What home does in a deputy for its copy's calls about the children it left at home.</summary>
public sealed partial class CheckpointEngine
{
    /// <summary>The most bytes a call made in a deputy may take of its data area (a siginfo and a struct rusage fit).</summary>
    public const int DeputyScratchBytes = 4096;

    /// <summary>
    /// Makes the deputy <paramref name="pid"/> itself call <paramref name="number"/>, so the kernel sees its parent
    /// (its PID, its children, its process group and credentials) make it: a wait for one of its children, a signal
    /// to them. <paramref name="scratch"/> is copied into the deputy's data area before the call and back after it;
    /// <paramref name="arguments"/> gets that area's address and gives the call's arguments. Signals are blocked
    /// meanwhile (one the call sends to the deputy itself is reported as usual once it is parked again). The call
    /// must not block: waits are made with WNOHANG. Returns what the call returned (a negated errno for a failure).
    /// </summary>
    public long CallInDeputy(int pid, long number, byte[] scratch, Func<long, long[]> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(arguments);
        if (scratch.Length > DeputyScratchBytes) throw new ArgumentException($"at most {DeputyScratchBytes} bytes of scratch", nameof(scratch));
        return _tracer.RunBrief(pid, () =>
        {
            var trampoline = _deputies.Stop(pid);
            var regs = Ptrace.GetRegs(pid);
            try
            {
                var data = trampoline + StubElf.DataOffset;
                if (scratch.Length > 0) ProcessMemory.Write(pid, data, scratch);
                var a = arguments((long)data);
                Array.Resize(ref a, 6);
                Ptrace.SetSignalMask(pid, ulong.MaxValue);
                var result = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs).Raw(number, a[0], a[1], a[2], a[3], a[4], a[5]);
                if (scratch.Length > 0) ProcessMemory.Read(pid, data, scratch);
                return result;
            }
            finally
            {
                Ptrace.SetRegs(pid, regs);
                _deputies.Resume(pid, trampoline);
            }
        });
    }
}
