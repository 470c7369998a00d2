namespace OpenMosix.Linux.Proc;

/// <summary>One line of /proc/PID/maps.</summary>
public sealed record MapsEntry(
    ulong Start, ulong End, bool Read, bool Write, bool Execute, bool Shared,
    ulong Offset, uint DeviceMajor, uint DeviceMinor, ulong Inode, string Name)
{
    public ulong Length => End - Start;
    /// <summary>dev_t as stat(2) reports it (new_encode_dev), to compare with a file's st_dev.</summary>
    public ulong Device => (DeviceMinor & 0xffUL) | ((ulong)DeviceMajor << 8) | ((DeviceMinor & ~0xffUL) << 12);
    public bool IsFileBacked => Inode != 0 && Name.StartsWith('/');
    public bool IsDeletedFile => Inode != 0 && Name.EndsWith(" (deleted)", StringComparison.Ordinal);
}
