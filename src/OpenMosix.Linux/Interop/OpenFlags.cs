namespace OpenMosix.Linux.Interop;

/// <summary>open(2) flags of Linux x86_64 (also what pipe2, dup3 and /proc/PID/fdinfo's "flags" use).</summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 1,
    ReadWrite = 2,
    AccessModeMask = 3,
    Create = 0x40,
    Exclusive = 0x80,
    NoControllingTerminal = 0x100,
    Truncate = 0x200,
    Append = 0x400,
    NonBlock = 0x800,
    Async = 0x2000,
    Direct = 0x4000,
    NoFollow = 0x20000,
    NoAccessTime = 0x40000,
    CloseOnExec = 0x80000,
}
