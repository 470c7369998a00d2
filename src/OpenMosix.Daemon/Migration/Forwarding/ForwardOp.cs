namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>What home is asked to do on a forwarded descriptor; the arguments of each are in <see cref="ForwardRequest"/>.</summary>
public enum ForwardOp : byte
{
    /// <summary>read: A0 = count.</summary>
    Read = 1,
    /// <summary>write: the data; A1 = <see cref="ForwardWire.WholePiece"/> for a piece written behind (all of it is
    /// written), A2 = the chain.</summary>
    Write = 2,
    /// <summary>pread64: A0 = count, A1 = offset.</summary>
    ReadAt = 3,
    /// <summary>pwrite64: A1 = offset, the data.</summary>
    WriteAt = 4,
    /// <summary>lseek: A0 = offset, A1 = whence.</summary>
    Seek = 5,
    /// <summary>fcntl(F_GETFL).</summary>
    GetFlags = 6,
    /// <summary>fcntl(F_SETFL): A0 = flags.</summary>
    SetFlags = 7,
    /// <summary>close: home closes the descriptor (and the deputy's).</summary>
    Close = 8,
    /// <summary>fstat: the reply's data is the struct stat.</summary>
    Status = 9,
    /// <summary>sendto/sendmsg: A0 = flags, Address = the destination (may be empty), the data; A1, A2 as for a write.</summary>
    Send = 10,
    /// <summary>recvfrom/recvmsg: A0 = count, A1 = flags, A2 = 1 to want the sender's address (the reply's Extra).</summary>
    Receive = 11,
    /// <summary>shutdown: A0 = how.</summary>
    Shutdown = 12,
    /// <summary>getsockopt: A0 = level, A1 = name, A2 = room; the reply's Extra is the value.</summary>
    GetOption = 13,
    /// <summary>setsockopt: A0 = level, A1 = name, the data is the value.</summary>
    SetOption = 14,
    /// <summary>getsockname: the reply's Extra is the address.</summary>
    SocketName = 15,
    /// <summary>getpeername: the reply's Extra is the address.</summary>
    PeerName = 16,
    /// <summary>accept4: A0 = flags, A1 = the number the connection gets in the copy (a forwarded descriptor from then
    /// on); the reply's Extra is the peer's address.</summary>
    Accept = 17,
    /// <summary>dup/dup2/dup3/fcntl(F_DUPFD): A0 = the new number in the copy, which names the same open file from then on.</summary>
    Duplicate = 18,
    /// <summary>ioctl: A0 = the request, A1 = the argument when it is a value, A2 = how many bytes it gives back (the
    /// reply's Extra); the data is what it takes.</summary>
    Control = 19,
    /// <summary>getdents64: A0 = count; the reply's data is the linux_dirent64 records.</summary>
    ReadDirectory = 20,

    /// <summary>connect: Address = the peer's address (a blocking socket waits at home for the connection).</summary>
    Connect = 25,
    /// <summary>bind: Address = the socket's own address (a port below home's unprivileged start needs the process's
    /// CAP_NET_BIND_SERVICE, as at home).</summary>
    Bind = 26,
    /// <summary>listen: A0 = backlog.</summary>
    Listen = 27,
    /// <summary>socket, of an internet family, made by the deputy at home (sockets_created_away = "home"): Fd = the
    /// number it gets in the copy (a forwarded descriptor from then on), A0 = family, A1 = type (with its SOCK_
    /// flags), A2 = protocol.</summary>
    Socket = 28,

    // Calls that name a path below the home paths, carried out by the deputy at home (PathCallWire). Fd is the
    // forwarded directory a relative path starts from, or AT_FDCWD (-100) with an absolute path; the data is the path.
    /// <summary>openat: A0 = flags, A1 = mode, A2 = the number the file gets in the copy (a forwarded descriptor from then on).</summary>
    Open = 30,
    /// <summary>newfstatat: A0 = flags; the reply's data is the struct stat.</summary>
    PathStatus = 31,
    /// <summary>statx: A0 = flags, A1 = mask; the reply's data is the struct statx.</summary>
    PathStatx = 32,
    /// <summary>readlinkat: A0 = room; the reply's data is the link's target.</summary>
    ReadLink = 33,
    /// <summary>faccessat2: A0 = mode, A1 = flags.</summary>
    Access = 34,

    /// <summary>Whether the copy may write behind on the descriptor: 1 for a pipe, FIFO or stream socket in blocking
    /// mode, else 0.</summary>
    Streams = 21,
    /// <summary>Read-ahead on a stream socket: A0 = count. Home peeks (MSG_PEEK at the socket's peek offset, without
    /// waiting) at most that many bytes past those it peeked for the copy before and not yet consumed; the reply's data
    /// are they (EOPNOTSUPP: not a stream socket; EAGAIN: nothing past them now). Nothing leaves home's socket.</summary>
    PeekAhead = 22,
    /// <summary>The copy read A0 bytes of those peeked ahead: home takes them out of its socket now.</summary>
    Consumed = 23,
    /// <summary>The copy reads (A1 = 0), writes with TOSTOP (A1 = 1) or changes (A1 = 2: tcsetattr, tcsetpgrp...) its
    /// terminal (not a forwarded descriptor; fd 0): A0 = 1 when the calling thread ignores or blocks SIGTTIN (a read)
    /// or SIGTTOU. Home answers 0 while its terminal has the deputy's group in the foreground (the call runs on the
    /// copy's node); 2 when it runs though in the background (a write with no TOSTOP now, SIGTTOU ignored); else EIO
    /// for a read when A0 is 1 or when the group is orphaned, or 1 once it sent SIGTTIN or SIGTTOU to the group, as its
    /// kernel would have (the signal, relayed, stops the copy and so interrupts the call). A node from before A1 sends
    /// 0: a read, as it meant.</summary>
    BackgroundRead = 24,

    // Calls about the children the process left at home, carried out by its deputy there (ChildCallWire); numbered
    // apart from the descriptor calls. Fd is 0 for all.
    /// <summary>wait4: A0 = pid, A1 = options; the reply's Data is the status (4 bytes) and the struct rusage.</summary>
    Wait = 40,
    /// <summary>waitid: A0 = idtype, A1 = id, A2 = options; the reply's Data is the siginfo and the struct rusage.</summary>
    WaitId = 41,
    /// <summary>kill: A0 = pid, A1 = signal.</summary>
    Kill = 42,
    /// <summary>tgkill: A0 = tgid, A1 = tid, A2 = signal.</summary>
    ThreadKill = 43,
    /// <summary>rt_sigqueueinfo: A0 = pid, A1 = signal, the data is the siginfo.</summary>
    QueueSignal = 44,
    /// <summary>getppid.</summary>
    ParentPid = 45,
    /// <summary>The copy's call with id A0 was interrupted: a wait for it at home gives up (no reply of its own).</summary>
    Cancel = 46,
}
