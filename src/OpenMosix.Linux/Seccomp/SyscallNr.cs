namespace OpenMosix.Linux.Seccomp;

/// <summary>x86_64 numbers of the calls a forwarding filter hands to omd.</summary>
public static class SyscallNr
{
    public const int Read = 0, Write = 1, Close = 3, Fstat = 5, Lseek = 8, Pread64 = 17, Pwrite64 = 18, Readv = 19, Writev = 20,
        Accept = 43, Sendto = 44, Recvfrom = 45, Sendmsg = 46, Recvmsg = 47, Shutdown = 48, Getsockname = 51, Getpeername = 52,
        Setsockopt = 54, Getsockopt = 55, Fcntl = 72, Newfstatat = 262, Accept4 = 288;
    /// <summary>connect, bind and listen of a forwarded socket (one made at home for the copy, or forwarded at the move).</summary>
    public const int Connect = 42, Bind = 49, Listen = 50;

    /// <summary>socket: of the internet families, made at home by the deputy (forwarding.sockets_created_away = "home").</summary>
    public const int Socket = 41;

    public const int Ioctl = 16, Dup = 32, Dup2 = 33, Dup3 = 292;

    /// <summary>getdents64 on a forwarded descriptor (a directory home opened) is read at home.</summary>
    public const int Getdents64 = 217;

    /// <summary>Calls that name a path: those of a path under the home paths are carried out at home by the deputy. The
    /// first five take the path first, the others a directory descriptor and then the path.</summary>
    public const int Open = 2, Stat = 4, Lstat = 6, Access = 21, Readlink = 89,
        Openat = 257, Readlinkat = 267, Faccessat = 269, Statx = 332, Openat2 = 437, Faccessat2 = 439;

    /// <summary>Calls about the process's children and its parent, carried out by the deputy at home.</summary>
    public const int Kill = 62, Wait4 = 61, Getppid = 110, RtSigqueueinfo = 129, Tgkill = 234, Waitid = 247;
}
