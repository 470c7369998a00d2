namespace OpenMosix.Linux;

/// <summary>Another process's memory: process_vm_readv/writev (many iovecs per call) and /proc/PID/mem.</summary>
public static class ProcessMemory
{
    /// <summary>The kernel's IOV_MAX: the most iovecs a single process_vm_* call accepts.</summary>
    public const int MaxIoVecs = 1024;

    /// <summary>Scatter/gather read; returns bytes read (may be short at an unreadable page).</summary>
    public static unsafe long ReadV(int pid, ReadOnlySpan<IoVec> local, ReadOnlySpan<IoVec> remote) =>
        Transfer(&Sys.ProcessVmReadv, "process_vm_readv", pid, local, remote);

    public static unsafe long WriteV(int pid, ReadOnlySpan<IoVec> local, ReadOnlySpan<IoVec> remote) =>
        Transfer(&Sys.ProcessVmWritev, "process_vm_writev", pid, local, remote);

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes at <paramref name="address"/>, or throws.</summary>
    public static unsafe void Read(int pid, ulong address, Span<byte> buffer) =>
        TransferAll(&Sys.ProcessVmReadv, "process_vm_readv", "short read", pid, address, buffer);

    /// <summary>Like <see cref="Read"/>, but false where the memory cannot be read (unmapped, or the process gone).</summary>
    public static bool TryRead(int pid, ulong address, Span<byte> buffer)
    {
        try
        {
            Read(pid, address, buffer);
            return true;
        }
        catch (SyscallException)
        {
            return false;
        }
    }

    public static unsafe void Write(int pid, ulong address, ReadOnlySpan<byte> data) =>
        TransferAll(&Sys.ProcessVmWritev, "process_vm_writev", "short write", pid, address, data);

    private static unsafe long Transfer(delegate*<int, IoVec*, nuint, IoVec*, nuint, nuint, nint> call, string name, int pid,
        ReadOnlySpan<IoVec> local, ReadOnlySpan<IoVec> remote)
    {
        fixed (IoVec* l = local)
        fixed (IoVec* r = remote)
        {
            var n = call(pid, l, (nuint)local.Length, r, (nuint)remote.Length, 0);
            if (n < 0) throw new SyscallException(name, Errno.Last, $"pid {pid}");
            return n;
        }
    }

    /// <summary>One contiguous range, all of it or an EFAULT. For a read the kernel writes <paramref name="local"/>: it is
    /// read-only here only because both directions share this code.</summary>
    private static unsafe void TransferAll(delegate*<int, IoVec*, nuint, IoVec*, nuint, nuint, nint> call, string name, string shortly,
        int pid, ulong address, ReadOnlySpan<byte> local)
    {
        fixed (byte* p = local)
        {
            var l = new IoVec((nint)p, (nuint)local.Length);
            var r = new IoVec((nint)address, (nuint)local.Length);
            var n = Transfer(call, name, pid, new ReadOnlySpan<IoVec>(in l), new ReadOnlySpan<IoVec>(in r));
            if (n != local.Length) throw new SyscallException(name, Errno.EFAULT, $"pid {pid}: {shortly} at 0x{address:x}");
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
