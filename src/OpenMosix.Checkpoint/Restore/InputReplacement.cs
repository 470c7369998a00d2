using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Linux.Interop;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Gives a process kept frozen a new pipe as its stdin (fd 0, with the old descriptor's status flags) and hands the
/// write end to the caller. A process that comes home with input its copy had not read yet reads that input first,
/// then the rest of its old stdin, through this pipe: nothing can be put back in front of bytes already in its old one.
/// The same for an output (<see cref="ReplaceOutput"/>): the process writes into the new pipe and the caller reads it
/// (a process restarted from a checkpoint writes again what it wrote after it, and omd drops what was delivered).
/// Its registers and signal mask are as they were afterwards.
/// </summary>
internal static class InputReplacement
{
    private const long PageSize = 4096;

    public static SafeFileHandle Replace(int pid) => Replace(pid, 0, processReads: true);

    /// <summary>Descriptor <paramref name="fd"/> becomes the write end of a new pipe; returns its read end.</summary>
    public static SafeFileHandle ReplaceOutput(int pid, int fd) => Replace(pid, fd, processReads: false);

    private static SafeFileHandle Replace(int pid, int fd, bool processReads)
    {
        var regs = Ptrace.GetRegs(pid);
        var mask = Ptrace.GetSignalMask(pid);
        var syscall = ProcessInspector.FindSyscallInstruction(pid, ProcFs.ReadMaps(pid).Select(m => RegionBuilder.Build(pid, m)));
        if (syscall == 0) throw new InjectionException($"process {pid} has no syscall instruction to inject through");
        // Every signal blocked: one pending would be delivered on the first resume instead of running the call.
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var injector = new SyscallInjector(pid, syscall, regs);
        try
        {
            var flags = injector.Call($"fcntl({fd}, F_GETFL)", Fcntl, fd, FGetFl);
            var page = injector.Call("mmap of a scratch page", Mmap, 0, PageSize, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            try
            {
                injector.Call($"pipe2 for a new fd {fd}", Pipe2, page, (long)OpenFlags.CloseOnExec);
                Span<byte> ends = stackalloc byte[8];
                ProcessMemory.Read(pid, (ulong)page, ends);
                var (read, write) = (BinaryPrimitives.ReadInt32LittleEndian(ends), BinaryPrimitives.ReadInt32LittleEndian(ends[4..]));
                using var process = PidFd.Open(pid);
                var ours = process.GetFd(processReads ? write : read);
                injector.Call($"dup3 to fd {fd}", Dup3, processReads ? read : write, fd, 0);
                injector.Call($"fcntl({fd}, F_SETFL)", Fcntl, fd, FSetFl, flags & ProcessBuilder.StatusFlags);
                injector.Raw(Close, read);
                injector.Raw(Close, write);
                return ours;
            }
            finally
            {
                injector.Raw(Munmap, page, PageSize);
            }
        }
        finally
        {
            Ptrace.SetRegs(pid, regs);
            Ptrace.SetSignalMask(pid, mask);
        }
    }
}
