using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

/// <summary>Another process's memory: process_vm_readv/writev (many iovecs per call) and /proc/PID/mem.</summary>
public static class ProcessMemory
{
    /// <summary>The kernel's IOV_MAX: the most iovecs a single process_vm_* call accepts.</summary>
    public const int MaxIoVecs = 1024;

    /// <summary>Scatter/gather read; returns bytes read (may be short at an unreadable page).</summary>
    public static unsafe long ReadV(int pid, ReadOnlySpan<IoVec> local, ReadOnlySpan<IoVec> remote)
    {
        fixed (IoVec* l = local)
        fixed (IoVec* r = remote)
        {
            var n = Sys.ProcessVmReadv(pid, l, (nuint)local.Length, r, (nuint)remote.Length, 0);
            if (n < 0) throw new SyscallException("process_vm_readv", Errno.Last, $"pid {pid}");
            return n;
        }
    }

    public static unsafe long WriteV(int pid, ReadOnlySpan<IoVec> local, ReadOnlySpan<IoVec> remote)
    {
        fixed (IoVec* l = local)
        fixed (IoVec* r = remote)
        {
            var n = Sys.ProcessVmWritev(pid, l, (nuint)local.Length, r, (nuint)remote.Length, 0);
            if (n < 0) throw new SyscallException("process_vm_writev", Errno.Last, $"pid {pid}");
            return n;
        }
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes at <paramref name="address"/>, or throws.</summary>
    public static unsafe void Read(int pid, ulong address, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var l = new IoVec((nint)p, (nuint)buffer.Length);
            var r = new IoVec((nint)address, (nuint)buffer.Length);
            var n = ReadV(pid, new ReadOnlySpan<IoVec>(in l), new ReadOnlySpan<IoVec>(in r));
            if (n != buffer.Length) throw new SyscallException("process_vm_readv", Errno.EFAULT, $"pid {pid}: short read at 0x{address:x}");
        }
    }

    public static unsafe void Write(int pid, ulong address, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var l = new IoVec((nint)p, (nuint)data.Length);
            var r = new IoVec((nint)address, (nuint)data.Length);
            var n = WriteV(pid, new ReadOnlySpan<IoVec>(in l), new ReadOnlySpan<IoVec>(in r));
            if (n != data.Length) throw new SyscallException("process_vm_writev", Errno.EFAULT, $"pid {pid}: short write at 0x{address:x}");
        }
    }

    /// <summary>Opens /proc/PID/mem, which (unlike process_vm_readv) also reads pages without PROT_READ.</summary>
    public static SafeFileHandle OpenMemFile(int pid) =>
        Sys.Open($"/proc/{pid}/mem", OpenFlags.ReadOnly | OpenFlags.CloseOnExec, 0).OrThrow("open(/proc/PID/mem)", $"pid {pid}");

    /// <summary>pread on /proc/PID/mem; returns bytes read.</summary>
    public static unsafe long ReadMemFile(SafeFileHandle mem, ulong address, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var n = Sys.Pread(mem, p, (nuint)buffer.Length, (long)address);
            if (n < 0) throw new SyscallException("pread(/proc/PID/mem)", Errno.Last, $"address 0x{address:x}");
            return n;
        }
    }
}
