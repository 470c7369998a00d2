using System.Buffers.Binary;
using System.Text;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The copy's calls that name a path, when its home has home paths (the filter then hands over every open, stat,
/// access and readlink): a path below a home path is sent home, where the deputy makes the call; every other is let
/// through to this node's kernel. A relative path counts from the copy's working directory here, or from a directory
/// home opened for it (a forwarded descriptor), which home resolves. A file opened at home becomes a forwarded
/// descriptor under a free number of the reserved range, its placeholder installed into the waiting call.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const int AtFdCwd = -100, PageSize = 4096;
    private const ulong OCloexec = 0x80000, AtEmptyPathFlag = 0x1000, AtSymlinkNoFollow = 0x100;

    /// <summary>Home's home paths (from the offer): none, and no path call is ever sent home.</summary>
    public HomePaths HomePaths { get; init; } = HomePaths.None;

    /// <summary>A call on a path served (at home or here); null for a call of another kind, or one the descriptor
    /// calls serve (newfstatat of a forwarded descriptor with AT_EMPTY_PATH: an fstat).</summary>
    private Task<Outcome>? ServePathCall(SeccompNotice n)
    {
        if (Array.IndexOf(ForwardingFilter.PathCalls, n.Nr) < 0 || (HomePaths.IsEmpty && n.Nr == SyscallNr.Newfstatat)) return null;
        // Without home paths (a copy adopted by a new omd here, which does not know them) and for a child forked here
        // (it inherited the filter) every path is this node's. Not let through to the descriptor calls: the first
        // argument of open, stat, access and readlink is the path's address, no descriptor.
        if (HomePaths.IsEmpty || !Directory.Exists($"/proc/{_pid}/task/{n.Pid}")) return Task.FromResult(Outcome.RunLocally);
        var a = n.Args;
        var pathFirst = n.Nr is SyscallNr.Open or SyscallNr.Stat or SyscallNr.Lstat or SyscallNr.Access or SyscallNr.Readlink;
        var dirfd = pathFirst ? AtFdCwd : (int)(uint)a[0];
        var path = ReadPath(pathFirst ? a[0] : a[1]);
        bool forwardedDirectory;
        lock (_open) forwardedDirectory = dirfd >= 0 && _open.Contains(dirfd);
        if (path is null) return Task.FromResult(Outcome.RunLocally); // the kernel says EFAULT or ENAMETOOLONG
        if (path.Length == 0) return n.Nr == SyscallNr.Newfstatat && forwardedDirectory ? null : Task.FromResult(Outcome.RunLocally);
        var absolute = path[0] == '/';
        if (!absolute && !forwardedDirectory)
        {
            if (dirfd != AtFdCwd) return Task.FromResult(Outcome.RunLocally);
            path = Linux.Proc.ProcFs.ReadWorkingDirectory(_pid).TrimEnd('/') + "/" + path;
        }
        if ((absolute || !forwardedDirectory) && !HomePaths.Covers(path)) return Task.FromResult(Outcome.RunLocally);
        var from = absolute || !forwardedDirectory ? AtFdCwd : dirfd;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length > PathCallWire.MaxPath) return Task.FromResult(new Outcome(-(long)Errno.ENAMETOOLONG));
        return n.Nr switch
        {
            SyscallNr.Open => OpenAsync(n, from, bytes, a[1], a[2]),
            SyscallNr.Openat => OpenAsync(n, from, bytes, a[2], a[3]),
            // openat2's resolve rules are not carried home: it answers as a kernel without it, and glibc falls back to openat.
            SyscallNr.Openat2 => Task.FromResult(new Outcome(-(long)Errno.ENOSYS)),
            SyscallNr.Stat => PathCallAsync(n, new ForwardRequest(0, ForwardOp.PathStatus, from), bytes, a[1], PathCallWire.StatBytes),
            SyscallNr.Lstat => PathCallAsync(n, new ForwardRequest(0, ForwardOp.PathStatus, from, (long)AtSymlinkNoFollow), bytes, a[1], PathCallWire.StatBytes),
            SyscallNr.Newfstatat => PathCallAsync(n, new ForwardRequest(0, ForwardOp.PathStatus, from, (long)(a[3] & ~AtEmptyPathFlag)), bytes, a[2], PathCallWire.StatBytes),
            SyscallNr.Statx => PathCallAsync(n, new ForwardRequest(0, ForwardOp.PathStatx, from, (long)(a[2] & ~AtEmptyPathFlag), (long)(uint)a[3]), bytes, a[4], PathCallWire.StatxBytes),
            SyscallNr.Readlink => ReadLinkAsync(n, from, bytes, a[1], a[2]),
            SyscallNr.Readlinkat => ReadLinkAsync(n, from, bytes, a[2], a[3]),
            SyscallNr.Access => PathCallAsync(n, new ForwardRequest(0, ForwardOp.Access, from, (long)(uint)a[1]), bytes, 0, 0),
            SyscallNr.Faccessat => PathCallAsync(n, new ForwardRequest(0, ForwardOp.Access, from, (long)(uint)a[2]), bytes, 0, 0),
            _ => PathCallAsync(n, new ForwardRequest(0, ForwardOp.Access, from, (long)(uint)a[2], (long)(uint)a[3]), bytes, 0, 0),
        };
    }

    /// <summary>A call sent home whose result (<paramref name="size"/> bytes: a struct stat or statx) goes to
    /// <paramref name="buffer"/> in the copy; flags the wire does not carry make it EINVAL, as the kernel's would.</summary>
    private async Task<Outcome> PathCallAsync(SeccompNotice n, ForwardRequest request, byte[] path, ulong buffer, int size)
    {
        request = request with { Data = path };
        if (PathCallWire.Problem(request) is not null) return new(-(long)Errno.EINVAL);
        var reply = await CallAsync(request).ConfigureAwait(false);
        if (reply.Result < 0 || size == 0) return new(reply.Result);
        if (reply.Data.Length != size) return new(-(long)Errno.EIO);
        if (!SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
        ProcessMemory.Write(_pid, buffer, reply.Data.Span);
        return new(reply.Result);
    }

    private async Task<Outcome> ReadLinkAsync(SeccompNotice n, int from, byte[] path, ulong buffer, ulong size)
    {
        if ((long)size <= 0) return new(-(long)Errno.EINVAL);
        var reply = await CallAsync(new ForwardRequest(0, ForwardOp.ReadLink, from, (long)Math.Min(size, ForwardWire.MaxData)) { Data = path }).ConfigureAwait(false);
        if (reply.Result < 0) return new(reply.Result);
        if (reply.Data.Length != reply.Result || (ulong)reply.Result > size) return new(-(long)Errno.EIO);
        if (!SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
        ProcessMemory.Write(_pid, buffer, reply.Data.Span);
        return new(reply.Result);
    }

    private Task<Outcome> OpenAsync(SeccompNotice n, int from, byte[] path, ulong flags, ulong mode)
    {
        var request = new ForwardRequest(0, ForwardOp.Open, from, (long)(uint)flags, (long)(mode & 0xfff)) { Data = path };
        return NewDescriptorAsync(n, number => request with { A2 = number }, (flags & OCloexec) != 0, done => done.Number);
    }

    /// <summary>
    /// A descriptor home made for the copy (a file it opened, a connection it accepted) becomes a forwarded one: it
    /// gets a free number of the reserved range (which the filter hands over), held in the copy by a placeholder
    /// installed into the waiting call. The mirror is there before home's first notice for it, which comes before
    /// the result. <paramref name="result"/> gives the call's result from home's reply and the number.
    /// </summary>
    private async Task<Outcome> NewDescriptorAsync(SeccompNotice n, Func<int, ForwardRequest> request, bool closeOnExec,
        Func<(ForwardReply Reply, int Number), long> result)
    {
        var number = FreeReservedNumber(0);
        if (number < 0) return new(-(long)Errno.EMFILE);
        var (mirror, copysEnd) = ReadinessMirror.Create();
        lock (_open)
        {
            _mirrors[number] = mirror;
            _keyOf[number] = number;
        }
        var reply = await CallAsync(request(number)).ConfigureAwait(false);
        if (reply.Result < 0)
        {
            ForgetNumber(number);
            return new(reply.Result);
        }
        try
        {
            SeccompListener.AddDescriptor(_listener, n.Id, copysEnd, number, closeOnExec);
        }
        catch (SyscallException)
        {
            // Interrupted: closed at home again (a connection's peer sees it closed).
            ForgetNumber(number);
            _ = CallAsync(new ForwardRequest(0, ForwardOp.Close, number));
            return Outcome.Interrupted;
        }
        lock (_open) _open.Add(number);
        NumberChanged?.Invoke(number, true);
        return new(result((reply, number)));
    }

    /// <summary>The NUL-terminated path at <paramref name="address"/> in the copy, read a page at a time (the rest of
    /// a page may be unmapped); null when it cannot be read or is longer than PATH_MAX.</summary>
    private string? ReadPath(ulong address)
    {
        var bytes = new List<byte>();
        Span<byte> chunk = stackalloc byte[PageSize];
        try
        {
            while (bytes.Count < PageSize)
            {
                var part = chunk[..(int)(PageSize - (address % PageSize))];
                ProcessMemory.Read(_pid, address, part);
                var end = part.IndexOf((byte)0);
                if (end >= 0)
                {
                    foreach (var b in part[..end]) bytes.Add(b);
                    return Encoding.UTF8.GetString([.. bytes]);
                }
                foreach (var b in part) bytes.Add(b);
                address += (ulong)part.Length;
            }
        }
        catch (SyscallException)
        {
            // unreadable: the kernel's own call says EFAULT
        }
        return null;
    }
}
