using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The copy's numbers for home's descriptors: each forwarded descriptor has its readiness mirror (the placeholder,
/// <see cref="ReadinessMirror"/>), which every number that names it shares; dup, dup2, dup3 and fcntl(F_DUPFD*) give
/// a new number for it, forwarded from then on (the placeholder installed under it), and ioctls of
/// <see cref="ForwardedIoctls"/> are carried out at home.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const long FDupFd = 0, FDupFdCloexec = 1030;
    private const int CloseOnExec = 0x80000;
    // Guarded by _open, as the numbers are. A mirror is kept under its key (the number home notices it under, the
    // first that named it) for as long as any number names it.
    private readonly Dictionary<int, ReadinessMirror> _mirrors = [];
    private readonly Dictionary<int, int> _keyOf = [];

    private void AddMirrors(IReadOnlyDictionary<int, ForwardMirrorEnds> ends)
    {
        foreach (var (fd, pair) in ends)
        {
            _mirrors[fd] = new ReadinessMirror(pair.Placeholder, pair.Peer);
            _keyOf[fd] = fd;
        }
    }

    private void ShowReadiness(ForwardNotice notice)
    {
        ReadinessMirror? mirror;
        lock (_open) _mirrors.TryGetValue(notice.Fd, out mirror);
        try
        {
            mirror?.Show(notice.Ready);
        }
        catch (ObjectDisposedException)
        {
            // closed meanwhile
        }
    }

    /// <summary>A number the copy no longer has for a forwarded descriptor; its mirror goes with the last.</summary>
    private void ForgetNumber(int fd)
    {
        ReadinessMirror? gone = null;
        lock (_open)
        {
            _open.Remove(fd);
            if (_keyOf.Remove(fd, out var key) && !_keyOf.ContainsValue(key) && _mirrors.Remove(key, out var mirror)) gone = mirror;
        }
        gone?.Dispose();
        NumberChanged?.Invoke(fd, false);
    }

    private bool Covered(int number) => _covered.Contains(number) || (number >= _reservedFrom && number < _reservedTop);

    private Task<Outcome> ServeDescriptorAsync(SeccompNotice n, int fd)
    {
        var a = n.Args;
        return n.Nr switch
        {
            SyscallNr.Dup => DuplicateAsync(n, fd, FreeReservedNumber(0), closeOnExec: false),
            SyscallNr.Dup2 => (int)a[1] == fd ? Task.FromResult(new Outcome(fd)) : DuplicateOntoAsync(n, fd, (int)a[1], closeOnExec: false),
            SyscallNr.Dup3 => (int)a[1] == fd || (a[2] & ~(ulong)CloseOnExec) != 0
                ? Task.FromResult(new Outcome(-(long)Errno.EINVAL))
                : DuplicateOntoAsync(n, fd, (int)a[1], (a[2] & CloseOnExec) != 0),
            SyscallNr.Ioctl => ForgetWriteMode(IoctlAsync(n, fd, (uint)a[1], a[2])),
            _ => ServeSocketAsync(n, fd),
        };
    }

    private Task<Outcome> FcntlDuplicateAsync(SeccompNotice n, int fd, long command, long lowest) =>
        lowest is < 0 or > int.MaxValue
            ? Task.FromResult(new Outcome(-(long)Errno.EINVAL))
            : DuplicateAsync(n, fd, FreeReservedNumber((int)lowest), command == FDupFdCloexec);

    /// <summary>dup2/dup3 onto <paramref name="target"/>: only onto a number the filter hands over (a forwarded
    /// number, or the reserved range), since calls on any other would not come here; what it held is closed first.</summary>
    private async Task<Outcome> DuplicateOntoAsync(SeccompNotice n, int fd, int target, bool closeOnExec)
    {
        if (target < 0 || target >= _reservedTop && !_covered.Contains(target)) return new(-(long)Errno.EBADF);
        if (!Covered(target))
        {
            // The filter's numbers were fixed when it was installed: a call on this one would run on the node, not
            // reach home. Stdio (0-2) is relayed, not forwarded, so a forwarded descriptor cannot become it.
            _logger.LogWarning("Process {Pid}: dup2 of forwarded fd {Fd} onto fd {Target} refused with EINVAL: {What}", _pid, fd, target,
                target <= 2 ? "a moved process's stdio is relayed from home, and cannot be replaced by a descriptor forwarded through home"
                    : "only the numbers forwarded when it moved and the reserved range above them can hold a forwarded descriptor");
            return new(-(long)Errno.EINVAL);
        }
        bool taken;
        lock (_open) taken = _open.Contains(target);
        if (taken) await CloseAsync(target).ConfigureAwait(false);
        return await DuplicateAsync(n, fd, target, closeOnExec).ConfigureAwait(false);
    }

    private async Task<Outcome> DuplicateAsync(SeccompNotice n, int fd, int number, bool closeOnExec)
    {
        if (number < 0) return new(-(long)Errno.EMFILE);
        ReadinessMirror? mirror;
        int key;
        lock (_open)
        {
            key = _keyOf.GetValueOrDefault(fd, fd);
            _mirrors.TryGetValue(key, out mirror);
        }
        if (mirror is null) return new(-(long)Errno.EBADF);
        // Home's peek offset is the descriptor's: reads under two numbers would share it.
        StopAhead(key);
        var reply = await CallAsync(new ForwardRequest(0, ForwardOp.Duplicate, fd, number)).ConfigureAwait(false);
        if (reply.Result < 0) return new(reply.Result);
        try
        {
            SeccompListener.AddDescriptor(_listener, n.Id, mirror.Placeholder, number, closeOnExec);
        }
        catch (SyscallException)
        {
            // Interrupted: home forgets the number again.
            _ = CallAsync(new ForwardRequest(0, ForwardOp.Close, number));
            return Outcome.Interrupted;
        }
        lock (_open)
        {
            _open.Add(number);
            _keyOf[number] = key;
        }
        NumberChanged?.Invoke(number, true);
        return new(number);
    }

    private async Task<Outcome> IoctlAsync(SeccompNotice n, int fd, uint request, ulong argument)
    {
        if (ForwardedIoctls.IsLocal(request)) return Outcome.RunLocally;
        if (ForwardedIoctls.Of(request) is not { } shape) return new(-(long)Errno.ENOTTY);
        var input = new byte[shape.In];
        if (shape.In > 0) ProcessMemory.Read(_pid, argument, input);
        var reply = await CallAsync(new ForwardRequest(0, ForwardOp.Control, fd, request, (long)argument, shape.Out) { Data = input }).ConfigureAwait(false);
        if (reply.Result < 0 || shape.Out == 0) return new(reply.Result);
        if (!SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
        ProcessMemory.Write(_pid, argument, reply.Extra.Span[..Math.Min(shape.Out, reply.Extra.Length)]);
        return new(reply.Result);
    }
}
