using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Linux.Proc;

/// <summary>/proc/PID/pagemap: one 64-bit entry per virtual page.</summary>
public static class Pagemap
{
    public const ulong Present = 1UL << 63, Swapped = 1UL << 62, FileOrSharedAnon = 1UL << 61, Exclusive = 1UL << 56;
    public const int PageSize = 4096;

    public static SafeFileHandle Open(int pid) =>
        File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>Fills <paramref name="entries"/> with the entries of the pages starting at <paramref name="address"/>.</summary>
    public static void Read(SafeFileHandle pagemap, ulong address, Span<ulong> entries)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(entries);
        var offset = (long)(address / PageSize * 8);
        for (var done = 0; done < bytes.Length;)
        {
            var n = RandomAccess.Read(pagemap, bytes[done..], offset + done);
            if (n <= 0) throw new IOException($"short read of pagemap at 0x{address:x}");
            done += n;
        }
    }

    /// <summary>A page the process has its own copy of: anonymous and present, or swapped out.</summary>
    public static bool IsPrivateData(ulong entry) => (entry & Swapped) != 0 || ((entry & Present) != 0 && (entry & FileOrSharedAnon) == 0);

    /// <summary>A page that was ever touched in an anonymous mapping (present or swapped).</summary>
    public static bool IsPopulated(ulong entry) => (entry & (Present | Swapped)) != 0;
}
