using System.Runtime.InteropServices;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>
/// Puts the free memory that the next timed step will allocate into a known state, the same for a floor and for what
/// it is compared with. On a VM with free page reporting (virtio-balloon, e.g. this Firecracker guest), memory that
/// stays free for more than about two seconds is handed back to the host, and the next touch of such a page costs a
/// fault on the host as well, about twice the price of reusing a page freed a moment ago. A raw write that truncates
/// and rewrites its own file always reuses the pages it just freed; a restore, left alone, gets pages freed seconds
/// earlier: comparing those two measured the hypervisor, not the restore.
/// </summary>
internal static unsafe class MemoryTemperature
{
    /// <summary>How long freed memory is left alone for the host to take it back (the kernel reports after 2 s).</summary>
    private static readonly TimeSpan ReportingDelay = TimeSpan.FromSeconds(5);

    /// <summary>Touches and frees <paramref name="bytes"/>, so that the next allocations reuse pages the host backs.</summary>
    public static void Warm(ulong bytes)
    {
        // glibc serves an allocation this large with its own mmap and gives it back with munmap on free.
        var memory = (byte*)NativeMemory.Alloc((nuint)bytes);
        for (var offset = 0UL; offset < bytes; offset += 4096) memory[offset] = 1;
        NativeMemory.Free(memory);
    }

    /// <summary>Waits until memory freed so far has been reported to the host, as on a node that has been idle.</summary>
    public static void Cool() => Thread.Sleep(ReportingDelay);
}
