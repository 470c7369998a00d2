namespace OpenMosix.Linux;

/// <summary>
/// struct uffd_msg (32 bytes): what a userfaultfd reports, a fault or a change to the address space it serves. The
/// union's three words are kept raw; the properties name them for each event.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct UserFaultMessage
{
    public const byte PageFault = 0x12, Fork = 0x13, Remap = 0x14, Remove = 0x15, Unmap = 0x16;

    public byte Event;
    private readonly byte _reserved1;
    private readonly ushort _reserved2;
    private readonly uint _reserved3;
    private ulong _first;
    private ulong _second;
    private ulong _third;

    /// <summary>PageFault: the faulting address (page aligned unless UFFD_FEATURE_EXACT_ADDRESS).</summary>
    public readonly ulong FaultAddress => _second;

    /// <summary>PageFault with UFFD_FEATURE_THREAD_ID: the faulting thread.</summary>
    public readonly int FaultThread => (int)(uint)_third;

    /// <summary>Fork: the new process's userfaultfd, a descriptor already installed in the reader's table.</summary>
    public readonly int ForkDescriptor => (int)(uint)_first;

    /// <summary>Remap: [from, from+length) moved to [to, to+length).</summary>
    public readonly (ulong From, ulong To, ulong Length) Moved => (_first, _second, _third);

    /// <summary>Remove and Unmap: [start, end) no longer holds what it held.</summary>
    public readonly (ulong Start, ulong End) Dropped => (_first, _second);

    /// <summary>For tests of the readers: a message as the kernel would write it.</summary>
    public static UserFaultMessage Make(byte kind, ulong first, ulong second, ulong third) =>
        new() { Event = kind, _first = first, _second = second, _third = third };
}
