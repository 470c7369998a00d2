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
    public ulong Mode;
    public long Copied;
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
    public ulong Size;
    public ulong Flags;
    public ulong Start;
    public ulong End;
    public ulong WalkEnd;
    public ulong Vector;
    public ulong VectorLength;
    public ulong MaxPages;
    public ulong CategoryInverted;
    public ulong CategoryMask;
    public ulong CategoryAnyOfMask;
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
