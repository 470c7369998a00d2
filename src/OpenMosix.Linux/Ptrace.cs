namespace OpenMosix.Linux;

/// <summary>
/// ptrace requests on one tracee. ptrace is per thread: every call for a tracee must come from the thread that
/// seized it (the engine's tracer thread).
/// </summary>
public static partial class Ptrace
{
    private const long PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13, PTRACE_DETACH = 17,
        PTRACE_SYSCALL = 24, PTRACE_GETREGSET = 0x4204, PTRACE_SETREGSET = 0x4205,
        PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207, PTRACE_LISTEN = 0x4208, PTRACE_PEEKSIGINFO = 0x4209, PTRACE_GETSIGMASK = 0x420a,
        PTRACE_SETSIGMASK = 0x420b, PTRACE_GET_RSEQ_CONFIGURATION = 0x420f, PTRACE_SETOPTIONS = 0x4200, PTRACE_GETEVENTMSG = 0x4201, PTRACE_GETSIGINFO = 0x4202;

    public const int O_TRACESYSGOOD = 1, O_TRACEFORK = 2, O_TRACECLONE = 8, O_EXITKILL = 0x100000;
    /// <summary>The tracee's seccomp filters do not apply while it is traced with this (root, CONFIG_CHECKPOINT_RESTORE,
    /// and a tracer not under seccomp itself): calls injected into it are not filtered.</summary>
    public const int O_SUSPEND_SECCOMP = 0x200000;
    public const int EventStop = 128, EventFork = 1, EventClone = 3;
    private const int NT_X86_XSTATE = 0x202;
    private const uint PEEKSIGINFO_SHARED = 1;
    public const int SigInfoSize = 128;

    private static void Check(long result, string request, int pid)
    {
        if (result < 0)
        {
            var errno = Errno.Last;
            throw new SyscallException($"ptrace({request})", errno, $"pid {pid}");
        }
    }

    public static void Seize(int pid, int options)
    {
        if (Sys.Ptrace(PTRACE_SEIZE, pid, 0, options) < 0)
        {
            var errno = Errno.Last;
            if (errno == Errno.ESRCH) throw new ProcessAccessException(pid, "no such process");
            if (errno == Errno.EPERM) throw new ProcessAccessException(pid, "permission denied (already traced, or not ours to trace)");
            throw new SyscallException("ptrace(PTRACE_SEIZE)", errno, $"pid {pid}");
        }
    }

    public static void Interrupt(int pid) => Check(Sys.Ptrace(PTRACE_INTERRUPT, pid, 0, 0), "PTRACE_INTERRUPT", pid);
    /// <summary>Leaves a tracee in group-stop stopped, but lets SIGCONT and other notifications through.</summary>
    public static void Listen(int pid) => Check(Sys.Ptrace(PTRACE_LISTEN, pid, 0, 0), "PTRACE_LISTEN", pid);
    public static void Continue(int pid, int signal = 0) => Check(Sys.Ptrace(PTRACE_CONT, pid, 0, signal), "PTRACE_CONT", pid);
    public static void Syscall(int pid, int signal = 0) => Check(Sys.Ptrace(PTRACE_SYSCALL, pid, 0, signal), "PTRACE_SYSCALL", pid);
    public static void Detach(int pid, int signal = 0) => Check(Sys.Ptrace(PTRACE_DETACH, pid, 0, signal), "PTRACE_DETACH", pid);
    public static void Kill(int pid) => Check(Sys.Ptrace(PTRACE_KILL, pid, 0, 0), "PTRACE_KILL", pid);

    public static void SetOptions(int pid, int options) => Check(Sys.Ptrace(PTRACE_SETOPTIONS, pid, 0, options), "PTRACE_SETOPTIONS", pid);

    /// <summary>The message of the last ptrace event stop: for PTRACE_EVENT_CLONE, the new thread's id.</summary>
    public static unsafe ulong GetEventMessage(int pid)
    {
        ulong message;
        Check(Sys.Ptrace(PTRACE_GETEVENTMSG, pid, 0, (nint)(&message)), "PTRACE_GETEVENTMSG", pid);
        return message;
    }

    public static unsafe UserRegs GetRegs(int pid)
    {
        UserRegs regs;
        Check(Sys.Ptrace(PTRACE_GETREGS, pid, 0, (nint)(&regs)), "PTRACE_GETREGS", pid);
        return regs;
    }

    public static unsafe void SetRegs(int pid, in UserRegs regs)
    {
        fixed (UserRegs* p = &regs) Check(Sys.Ptrace(PTRACE_SETREGS, pid, 0, (nint)p), "PTRACE_SETREGS", pid);
    }

    /// <summary>Reads NT_X86_XSTATE; returns the kernel's size of it (2432 bytes on this hardware).</summary>
    public static unsafe byte[] GetExtendedState(int pid)
    {
        var buffer = new byte[16384];
        fixed (byte* p = buffer)
        {
            var io = new IoVec((nint)p, (nuint)buffer.Length);
            Check(Sys.Ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, (nint)(&io)), "PTRACE_GETREGSET NT_X86_XSTATE", pid);
            return buffer.AsSpan(0, (int)io.Length).ToArray();
        }
    }

    public static unsafe void SetExtendedState(int pid, ReadOnlySpan<byte> state)
    {
        fixed (byte* p = state)
        {
            var io = new IoVec((nint)p, (nuint)state.Length);
            Check(Sys.Ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, (nint)(&io)), "PTRACE_SETREGSET NT_X86_XSTATE", pid);
        }
    }

    /// <summary>The siginfo (128 bytes) of the signal a tracee in signal-delivery-stop is stopped for.</summary>
    public static unsafe byte[] GetSigInfo(int pid)
    {
        var info = new byte[SigInfoSize];
        fixed (byte* p = info)
            Check(Sys.Ptrace(PTRACE_GETSIGINFO, pid, 0, (nint)p), "PTRACE_GETSIGINFO", pid);
        return info;
    }

    public static unsafe ulong GetSignalMask(int pid)
    {
        ulong mask;
        Check(Sys.Ptrace(PTRACE_GETSIGMASK, pid, 8, (nint)(&mask)), "PTRACE_GETSIGMASK", pid);
        return mask;
    }

    public static unsafe void SetSignalMask(int pid, ulong mask) =>
        Check(Sys.Ptrace(PTRACE_SETSIGMASK, pid, 8, (nint)(&mask)), "PTRACE_SETSIGMASK", pid);

    /// <summary>Queued signals (raw 128-byte siginfo each), thread-private or shared, without dequeuing them.</summary>
    public static unsafe List<byte[]> PeekSignals(int pid, bool shared)
    {
        var result = new List<byte[]>();
        var buffer = new byte[SigInfoSize * 32];
        fixed (byte* p = buffer)
        {
            for (ulong offset = 0; ;)
            {
                var args = new PeekSigInfoArgs { Offset = offset, Flags = shared ? PEEKSIGINFO_SHARED : 0, Count = 32 };
                var n = Sys.Ptrace(PTRACE_PEEKSIGINFO, pid, (nint)(&args), (nint)p);
                Check(n, "PTRACE_PEEKSIGINFO", pid);
                for (var i = 0; i < n; i++) result.Add(buffer.AsSpan(i * SigInfoSize, SigInfoSize).ToArray());
                if (n < 32) return result;
                offset += (ulong)n;
            }
        }
    }

    /// <summary>The registered rseq area, or null when none is registered.</summary>
    public static unsafe RseqConfiguration? GetRseqConfiguration(int pid)
    {
        RseqConfiguration config;
        var n = Sys.Ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(RseqConfiguration), (nint)(&config));
        Check(n, "PTRACE_GET_RSEQ_CONFIGURATION", pid);
        return config.AbiPointer == 0 ? null : config;
    }
}
