using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Checkpoint.Postcopy;

/// <summary>
/// Pages served from the process itself, kept frozen where it was checkpointed (home's deputy-to-be): its memory is
/// the image's until it runs again, which it may do, intact, if its copy cannot be given every page. Memory the process
/// made inaccessible (PROT_NONE: a reservation, a guard) is read through /proc/PID/mem, as the dumper does; a read that
/// still comes short means the address space is gone, and fails rather than serve zeros for pages that had contents.
/// </summary>
public sealed class FrozenProcessPages(int pid) : IPageSource, IDisposable
{
    private SafeFileHandle? _mem;

    public void Fetch(ulong address, Span<byte> destination)
    {
        try
        {
            ProcessMemory.Read(pid, address, destination);
            return;
        }
        catch (SyscallException e) when (e.Error != Errno.ESRCH)
        {
            // A page without PROT_READ: below.
        }
        _mem ??= ProcessMemory.OpenMemFile(pid);
        var done = 0;
        while (done < destination.Length)
        {
            var read = ProcessMemory.ReadMemFile(_mem, address + (ulong)done, destination[done..]);
            if (read <= 0) throw new IOException($"the memory of process {pid} at 0x{address + (ulong)done:x} cannot be read (its address space is gone)");
            done += (int)read;
        }
    }

    public void Dispose() => _mem?.Dispose();
}
