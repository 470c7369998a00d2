using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

public static class FileOwnership
{
    /// <summary>chown(2); -1 leaves that id as it is.</summary>
    public static void Change(string path, int uid, int gid)
    {
        if (Sys.Chown(path, uid, gid) != 0) throw SyscallException.FromLastError($"chown({path})");
    }
}
