namespace OpenMosix.Checkpoint.Postcopy;

public sealed partial class PostcopyServer
{
    /// <summary>
    /// Fetches [start, start+length) and copies it in. A copy stops at the first page that is already there (EEXIST:
    /// skipped, its waiters woken), outside a mapping registered here (ENOENT: one vma's end, or memory unmapped
    /// meanwhile: asked again page by page), in an address space that is changing (EAGAIN: returned, to read its
    /// events first) or gone (ESRCH).
    /// </summary>
    private Errno Deliver(ulong start, ulong length)
    {
        var data = _buffer.AsSpan(0, (int)length);
        // A run is pending in one piece, so its pages were together when frozen too.
        if (_source.FetchUnlessZero(_pending.OriginOf(start), data)) return DeliverZeros(start, length);
        var done = 0UL;
        var single = false;
        while (done < length)
        {
            var piece = single ? PageSize : length - done;
            var (error, copied) = _fd.TryCopy(start + done, data.Slice((int)done, (int)piece));
            _pending.Remove(start + done, copied);
            done += copied;
            if (error == 0)
            {
                single = false;
                continue;
            }
            switch (error)
            {
                case Errno.EEXIST:
                    _pending.Remove(start + done, PageSize);
                    _fd.Wake(start + done, PageSize);
                    done += PageSize;
                    break;
                case Errno.ENOENT when !single:
                    single = true;
                    break;
                case Errno.ENOENT:
                    // No mapping of ours holds this page any more: there is nothing to fill.
                    _pending.Remove(start + done, PageSize);
                    done += PageSize;
                    single = false;
                    break;
                default:
                    return Interrupted(error, "ioctl(UFFDIO_COPY)", start + done, length - done);
            }
        }
        return 0;
    }

    /// <summary>[start, start+length) held only zeros at home: mapped as zero pages, one by one where the whole range
    /// cannot be (a page already there, or no longer ours), as <see cref="Deliver"/> does.</summary>
    private Errno DeliverZeros(ulong start, ulong length)
    {
        var error = _fd.TryZeroPage(start, length);
        if (error == 0)
        {
            _pending.Remove(start, length);
            return 0;
        }
        for (var page = start; page < start + length; page += PageSize)
        {
            error = _fd.TryZeroPage(page, PageSize);
            switch (error)
            {
                case 0 or Errno.ENOENT:
                    _pending.Remove(page, PageSize);
                    break;
                case Errno.EEXIST:
                    _pending.Remove(page, PageSize);
                    _fd.Wake(page, PageSize);
                    break;
                default:
                    return Interrupted(error, "ioctl(UFFDIO_ZEROPAGE)", page, PageSize);
            }
        }
        return 0;
    }

    /// <summary>How a delivery ends at an error it cannot step past: the process gone (ESRCH: 0, the server ends), its
    /// address space changing (EAGAIN: returned, to read its events first), or any other error thrown, naming
    /// [at, at+left).</summary>
    private Errno Interrupted(Errno error, string call, ulong at, ulong left)
    {
        switch (error)
        {
            case Errno.ESRCH:
                _gone = true;
                return 0;
            case Errno.EAGAIN:
                return Errno.EAGAIN;
            default:
                throw new SyscallException(call, error, $"0x{at:x}+{left}");
        }
    }

    /// <summary>
    /// Kills the process (and those forked from it during post-copy) and waits until its address space is gone. A
    /// thread that faults meanwhile is killed by its id (a fork's child is known by nothing else), and the
    /// descriptor stays open until then, so that no missing page turns into a zero page.
    /// </summary>
    private PostcopyOutcome Doom()
    {
        _doomed = true;
        try
        {
            _process?.SendSignal(Signals.SIGKILL);
        }
        catch (SyscallException)
        {
            // already gone
        }
        foreach (var child in Children) child._stop = true;
        var messages = new UserFaultMessage[16];
        while (_fd.AddressSpaceAlive(_probe))
        {
            var read = _fd.Read(messages);
            for (var i = 0; i < read; i++) Handle(messages[i]);
            while (_faults.TryDequeue(out var fault)) ServeFault(fault.Page, fault.Thread);
            if (read == 0) Readiness.WaitReadable(_fd.Handle, Idle);
        }
        return PostcopyOutcome.Killed;
    }

    private static void TryKill(int thread)
    {
        try
        {
            Signals.Kill(thread, Signals.SIGKILL);
        }
        catch (ProcessAccessException)
        {
            // gone already
        }
    }
}
