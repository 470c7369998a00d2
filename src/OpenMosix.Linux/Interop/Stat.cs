namespace OpenMosix.Linux.Interop;

/// <summary>struct stat of x86_64 (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StatBuffer
{
    public ulong Device, Inode, LinkCount;
    public uint Mode, Uid, Gid;
    private readonly uint _pad;
    public ulong RawDevice;
    public long Size, BlockSize, Blocks;
    public long AccessSeconds, AccessNanoseconds, ModifySeconds, ModifyNanoseconds, ChangeSeconds, ChangeNanoseconds;
    private readonly long _reserved0, _reserved1, _reserved2;
}

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Stat(string path, out StatBuffer buffer);
}
