using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Ends a stopped tracee with a chosen status, as seen by its parent: an exit code through an injected
/// exit_group, or death by a signal whose disposition is first reset to the default. Every other signal is blocked
/// first, so nothing pending at home can change the outcome. Runs on the tracer thread.
/// </summary>
internal static class DeputyExit
{
    private const int SigactionSize = 32;
    private const ulong ExitGroupCall = 231;

    public static void End(int pid, ExitStatus status)
    {
        // Signals sent to the deputy are pending on it; unblocked, the first resume (even of an injected syscall)
        // would deliver one instead of running the call.
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var regs = Ptrace.GetRegs(pid);
        if (!status.Signaled)
        {
            var regions = ProcFs.ReadMaps(pid).Select(m => RegionBuilder.Build(pid, m)).ToList();
            var syscall = ProcessInspector.FindSyscallInstruction(pid, regions);
            if (syscall == 0) throw new InjectionException($"process {pid} has no syscall instruction to exit through");
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            regs.rip = syscall;
            regs.rax = ExitGroupCall;
            regs.orig_rax = ulong.MaxValue;
            regs.rdi = (ulong)status.Code;
            Ptrace.SetRegs(pid, regs);
            Ptrace.Detach(pid);
            return;
        }
        var signal = status.Signal;
        if (signal != Signals.SIGKILL)
        {
            // The handler the program installed must not run: the copy already died of this signal remotely.
            var maps = ProcFs.ReadMaps(pid);
            var regions = maps.Select(m => RegionBuilder.Build(pid, m)).ToList();
            var syscall = ProcessInspector.FindSyscallInstruction(pid, regions);
            var writable = maps.FirstOrDefault(m => m.Read && m.Write && !m.Shared);
            if (syscall == 0 || writable is null) throw new InjectionException($"process {pid} offers no way to reset its handler for signal {signal}");
            ProcessMemory.Write(pid, writable.Start, new byte[SigactionSize]);
            new SyscallInjector(pid, syscall, regs).Call($"rt_sigaction({signal}, SIG_DFL)", RtSigaction, signal, (long)writable.Start, 0, 8);
            Ptrace.SetRegs(pid, regs);
        }
        Ptrace.SetSignalMask(pid, ulong.MaxValue & ~(1UL << (signal - 1)));
        Ptrace.Detach(pid, signal);
    }
}
