namespace OpenMosix.Linux.Interop;

/// <summary>struct iovec.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoVec
{
    public nint Base;
    public nuint Length;

    public IoVec(nint address, nuint length)
    {
        Base = address;
        Length = length;
    }
}

/// <summary>struct rlimit (64-bit fields).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RLimit
{
    public ulong Current;
    public ulong Maximum;
}

/// <summary>struct ptrace_rseq_configuration.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RseqConfiguration
{
    public ulong AbiPointer;
    public uint AbiSize;
    public uint Signature;
    public uint Flags;
    public uint Pad;
}

/// <summary>struct ptrace_peeksiginfo_args.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PeekSigInfoArgs
{
    public ulong Offset;
    public uint Flags;
    public int Count;
}

/// <summary>struct timespec.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>struct uffdio_api.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioApi
{
    public ulong Api;
    public ulong Features;
    public ulong Ioctls;
}

/// <summary>struct uffdio_range.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRange
{
    public ulong Start;
    public ulong Length;
}

/// <summary>struct uffdio_register.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRegister
{
    public UffdioRange Range;
    public ulong Mode;
    public ulong Ioctls;
}

/// <summary>struct uffdio_copy.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioCopy
{
    public ulong Destination;
    public ulong Source;
    public ulong Length;
    /// <summary>mode: UFFDIO_COPY_MODE_DONTWAKE, UFFDIO_COPY_MODE_WP.</summary>
    public ulong Mode;
    /// <summary>copy (out): the bytes copied, or a negated errno.</summary>
    public long Copied;
}

/// <summary>struct uffdio_zeropage.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioZeroPage
{
    public UffdioRange Range;
    public ulong Mode;
    /// <summary>zeropage (out): the bytes mapped, or a negated errno.</summary>
    public long Mapped;
}

/// <summary>struct pollfd.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;
}

/// <summary>struct uffdio_writeprotect.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioWriteProtect
{
    public UffdioRange Range;
    public ulong Mode;
}

/// <summary>struct pm_scan_arg (PAGEMAP_SCAN, Linux 6.7).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PmScanArg
{
    /// <summary>size: the size of this struct, which tells the kernel its version.</summary>
    public ulong Size;
    /// <summary>flags: PM_SCAN_WP_MATCHING (write-protect the pages it reports, in the same walk), PM_SCAN_CHECK_WPASYNC.</summary>
    public ulong Flags;
    /// <summary>start, end: the range to walk.</summary>
    public ulong Start;
    public ulong End;
    /// <summary>walk_end (out): where the walk stopped, before <see cref="End"/> when the vector or max_pages ran out.</summary>
    public ulong WalkEnd;
    /// <summary>vec, vec_len: the <see cref="PageRegion"/> array the kernel fills, and its length.</summary>
    public ulong Vector;
    public ulong VectorLength;
    /// <summary>max_pages: the most pages to report (0: no limit).</summary>
    public ulong MaxPages;
    /// <summary>category_inverted: categories whose absence is what matches.</summary>
    public ulong CategoryInverted;
    /// <summary>category_mask: a page matches only with all of these.</summary>
    public ulong CategoryMask;
    /// <summary>category_anyof_mask: a page matches only with at least one of these (0: any page).</summary>
    public ulong CategoryAnyOfMask;
    /// <summary>return_mask: the categories reported in each <see cref="PageRegion.Categories"/>.</summary>
    public ulong ReturnMask;
}

/// <summary>struct page_region: one range of pages of the same categories, as PAGEMAP_SCAN reports them.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PageRegion
{
    public ulong Start;
    public ulong End;
    public ulong Categories;
}

/// <summary>struct sockaddr_nl.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockAddrNetlink
{
    public ushort Family;
    public ushort Pad;
    public uint PortId;
    public uint Groups;
}
