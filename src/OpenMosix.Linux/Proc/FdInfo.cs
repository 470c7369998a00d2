using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>/proc/PID/fdinfo/N: position, open flags (octal), mount id, inode.</summary>
public sealed record FdInfo(long Position, int Flags, int MountId, ulong Inode)
{
    public bool CloseOnExec => ((OpenFlags)Flags).HasFlag(OpenFlags.CloseOnExec);

    public static FdInfo Parse(string text)
    {
        long pos = 0;
        int flags = 0, mnt = 0;
        ulong ino = 0;
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) continue;
            var value = line[(colon + 1)..].Trim();
            switch (line[..colon])
            {
                case "pos": pos = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "flags": flags = Convert.ToInt32(value, 8); break;
                case "mnt_id": mnt = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "ino": ino = ulong.Parse(value, CultureInfo.InvariantCulture); break;
            }
        }
        return new FdInfo(pos, flags, mnt, ino);
    }
}
