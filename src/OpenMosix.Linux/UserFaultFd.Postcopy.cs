namespace OpenMosix.Linux;

/// <summary>
/// The operations post-copy needs: a descriptor whose faults wait for a handler (kernel-mode accesses included), the
/// messages it reports, and copies that wake the threads waiting on them and say what went wrong instead of throwing,
/// since EEXIST, ENOENT, EAGAIN and ESRCH are all part of a running process changing under the handler.
/// </summary>
public sealed partial class UserFaultFd
{
    /// <summary>userfaultfd(2) flags for a descriptor that serves a running process: close-on-exec and non-blocking,
    /// and not user-mode only, so that a system call touching a missing page waits for it too (it needs
    /// CAP_SYS_PTRACE, or vm.unprivileged_userfaultfd, in the process that makes it).</summary>
    public const long FlagsForServing = (long)(OpenFlags.CloseOnExec | OpenFlags.NonBlock);

    /// <summary>EVENT_FORK | EVENT_REMAP | EVENT_REMOVE | EVENT_UNMAP | THREAD_ID: the handler hears of every change
    /// to what a missing page should become (a fork's copy, a move, a discard, an unmap) and who faulted.
    /// EVENT_FORK needs CAP_SYS_PTRACE in the caller of UFFDIO_API.</summary>
    public const ulong ServingEvents = (1UL << 1) | (1UL << 2) | (1UL << 3) | (1UL << 6) | (1UL << 8);

    private const nuint UffdioWakeRequest = 0x8010aa02, UffdioZeroPageRequest = 0xc020aa04;
    private const ulong WriteProtectModeDontWake = 2;

    public SafeFileHandle Handle => _fd;

    /// <summary>Wraps the descriptor a fork event installed here: it shares its parent's API and features.</summary>
    public static UserFaultFd FromFork(SafeFileHandle fd) => new(fd);

    /// <summary>
    /// Copies <paramref name="source"/> into missing pages at <paramref name="destination"/> and wakes whoever waits
    /// on them. Returns 0 when all was copied, else the errno at the first page not copied and how many bytes were.
    /// </summary>
    public unsafe (Errno Error, ulong Done) TryCopy(ulong destination, ReadOnlySpan<byte> source)
    {
        fixed (byte* data = source)
        {
            var copy = new UffdioCopy { Destination = destination, Source = (ulong)data, Length = (ulong)source.Length };
            if (Sys.Ioctl(_fd, UffdioCopyRequest, &copy) == 0) return (0, (ulong)source.Length);
            return (Errno.Last, copy.Copied > 0 ? (ulong)copy.Copied : 0);
        }
    }

    /// <summary>Maps the zero page at missing pages of [start, start+length) and wakes whoever waits on them.</summary>
    public unsafe Errno TryZeroPage(ulong start, ulong length)
    {
        var zero = new UffdioZeroPage { Range = new UffdioRange { Start = start, Length = length } };
        return Sys.Ioctl(_fd, UffdioZeroPageRequest, &zero) == 0 ? 0 : Errno.Last;
    }

    /// <summary>Wakes threads waiting on [start, start+length) (a page that another copy filled meanwhile).</summary>
    public unsafe void Wake(ulong start, ulong length)
    {
        var range = new UffdioRange { Start = start, Length = length };
        _ = Sys.Ioctl(_fd, UffdioWakeRequest, &range);
    }

    /// <summary>
    /// Whether the address space the descriptor serves still exists. Asks to un-write-protect a page of a range
    /// registered for missing pages only: the kernel answers ESRCH once the address space is gone, otherwise refuses
    /// (ENOENT) or does nothing, and either way changes nothing.
    /// </summary>
    public unsafe bool AddressSpaceAlive(ulong anyPage)
    {
        var protect = new UffdioWriteProtect { Range = new UffdioRange { Start = anyPage, Length = 4096 }, Mode = WriteProtectModeDontWake };
        return Sys.Ioctl(_fd, UffdioWriteProtectRequest, &protect) == 0 || Errno.Last != Errno.ESRCH;
    }

    /// <summary>Reads the messages waiting (none: 0, the descriptor is non-blocking).</summary>
    public unsafe int Read(Span<UserFaultMessage> messages)
    {
        fixed (UserFaultMessage* buffer = messages)
        {
            var read = Sys.Read(_fd, (byte*)buffer, (nuint)(messages.Length * sizeof(UserFaultMessage)));
            if (read >= 0) return (int)(read / sizeof(UserFaultMessage));
            var errno = Errno.Last;
            if (errno is Errno.EAGAIN or Errno.EINTR) return 0;
            throw new SyscallException("read(userfaultfd)", errno);
        }
    }
}
