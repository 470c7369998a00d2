using System.Runtime.InteropServices;

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
