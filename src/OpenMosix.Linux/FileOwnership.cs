namespace OpenMosix.Linux;

public static class FileOwnership
{
    /// <summary>chown(2); -1 leaves that id as it is.</summary>
    public static void Change(string path, int uid, int gid)
    {
        if (Sys.Chown(path, uid, gid) != 0) throw SyscallException.FromLastError($"chown({path})");
    }

    /// <summary>fchown(2): the open file itself, so a name swapped meanwhile (a symlink planted in /tmp) cannot redirect it.</summary>
    public static void Change(SafeFileHandle file, int uid, int gid)
    {
        if (Sys.Fchown(file, uid, gid) != 0) throw SyscallException.FromLastError("fchown");
    }
}
