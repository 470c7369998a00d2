namespace OpenMosix.Linux;

public enum FileType { Other, Regular, Directory, CharacterDevice, BlockDevice, Fifo, Socket, Symlink }

/// <summary>What stat(2) says about a file (following links, so /proc/PID/fd/N describes the open file).</summary>
public sealed record FileStatus(ulong Device, ulong Inode, uint Mode, ulong RawDevice, long Size, long ModifiedNanoseconds)
{
    public FileType Type => (Mode & 0xf000) switch
    {
        0x8000 => FileType.Regular,
        0x4000 => FileType.Directory,
        0x2000 => FileType.CharacterDevice,
        0x6000 => FileType.BlockDevice,
        0x1000 => FileType.Fifo,
        0xc000 => FileType.Socket,
        0xa000 => FileType.Symlink,
        _ => FileType.Other,
    };

    /// <summary>The owner's uid (of /proc/PID: the process's effective uid).</summary>
    public uint Owner { get; init; }

    /// <summary>How many names (hard links) the file has.</summary>
    public ulong Links { get; init; }

    public uint RawDeviceMajor => (uint)(((RawDevice >> 8) & 0xfff) | ((RawDevice >> 32) & ~0xfffUL));
    public uint RawDeviceMinor => (uint)((RawDevice & 0xff) | ((RawDevice >> 12) & ~0xffUL));

    public static FileStatus Of(string path) =>
        TryOf(path, out var status, out var errno) ? status! : throw new SyscallException("stat", errno, path);

    public static bool TryOf(string path, out FileStatus? status, out Errno errno)
    {
        if (Sys.Stat(path, out var b) < 0)
        {
            errno = Errno.Last;
            status = null;
            return false;
        }
        errno = 0;
        status = new FileStatus(b.Device, b.Inode, b.Mode, b.RawDevice, b.Size, b.ModifySeconds * 1_000_000_000 + b.ModifyNanoseconds)
        {
            Owner = b.Uid,
            Links = b.LinkCount,
        };
        return true;
    }
}
