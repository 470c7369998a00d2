namespace OpenMosix.Linux;

/// <summary>
/// A userfaultfd, possibly of another process (created inside it and duplicated here with pidfd_getfd: every
/// operation acts on the address space the descriptor was created in). Used to fill that process's missing anonymous
/// pages with UFFDIO_COPY, which allocates each page and copies into it in one pass: unlike faulting the pages in
/// and then writing them with process_vm_writev, nothing is zero-filled first and no get_user_pages walk is needed.
/// </summary>
public sealed partial class UserFaultFd : IDisposable
{
    /// <summary>userfaultfd(2) flag: only faults from user mode are handled; a kernel access to a missing page of a
    /// registered range (e.g. process_vm_writev) fails with EFAULT instead of waiting for a handler.</summary>
    private const int UserModeOnly = 1;

    /// <summary>The userfaultfd(2) flags every descriptor of ours is made with: close-on-exec, non-blocking, user mode only.</summary>
    public const long FlagsForNew = (long)(OpenFlags.CloseOnExec | OpenFlags.NonBlock) | UserModeOnly;

    private const ulong Api = 0xAA;
    private const nuint UffdioApiRequest = 0xc018aa3f, UffdioRegisterRequest = 0xc020aa00,
        UffdioUnregisterRequest = 0x8010aa01, UffdioCopyRequest = 0xc028aa03, UffdioWriteProtectRequest = 0xc018aa06;
    private const ulong RegisterModeMissing = 1, RegisterModeWriteProtect = 2, CopyModeDontWake = 1, WriteProtectModeOn = 1;

    /// <summary>UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_ASYNC (Linux 6.4/6.7): the kernel itself resolves
    /// write-protect faults and only records that the page was written, which PAGEMAP_SCAN then reports. Pages not
    /// populated yet are protected too, so a first write to them is recorded as well.</summary>
    public const ulong AsyncWriteTracking = (1UL << 13) | (1UL << 15);

    private readonly SafeFileHandle _fd;

    private UserFaultFd(SafeFileHandle fd) => _fd = fd;

    /// <summary>Takes ownership of <paramref name="fd"/>, a fresh userfaultfd, and completes its API handshake.</summary>
    public static unsafe UserFaultFd Adopt(SafeFileHandle fd, ulong features = 0)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var api = new UffdioApi { Api = Api, Features = features };
        if (Sys.Ioctl(fd, UffdioApiRequest, &api) < 0)
        {
            var errno = Errno.Last;
            fd.Dispose();
            throw new SyscallException("ioctl(UFFDIO_API)", errno);
        }
        return new UserFaultFd(fd);
    }

    /// <summary>Registers [start, start+length) for missing-page handling, which is what lets UFFDIO_COPY fill it.</summary>
    public unsafe void RegisterMissing(ulong start, ulong length)
    {
        var register = new UffdioRegister { Range = new UffdioRange { Start = start, Length = length }, Mode = RegisterModeMissing };
        if (Sys.Ioctl(_fd, UffdioRegisterRequest, &register) < 0)
            throw new SyscallException("ioctl(UFFDIO_REGISTER)", Errno.Last, $"range 0x{start:x}+{length}");
    }

    /// <summary>Registers [start, start+length) for write protection (with <see cref="AsyncWriteTracking"/>: any kind
    /// of memory).</summary>
    public unsafe void RegisterWriteProtect(ulong start, ulong length)
    {
        var register = new UffdioRegister { Range = new UffdioRange { Start = start, Length = length }, Mode = RegisterModeWriteProtect };
        if (Sys.Ioctl(_fd, UffdioRegisterRequest, &register) < 0)
            throw new SyscallException("ioctl(UFFDIO_REGISTER)", Errno.Last, $"write-protect range 0x{start:x}+{length}");
    }

    /// <summary>Write-protects a registered range: from now on a write to any of its pages is recorded.</summary>
    public unsafe void WriteProtect(ulong start, ulong length)
    {
        var protect = new UffdioWriteProtect { Range = new UffdioRange { Start = start, Length = length }, Mode = WriteProtectModeOn };
        if (Sys.Ioctl(_fd, UffdioWriteProtectRequest, &protect) < 0)
            throw new SyscallException("ioctl(UFFDIO_WRITEPROTECT)", Errno.Last, $"range 0x{start:x}+{length}");
    }

    public unsafe void Unregister(ulong start, ulong length)
    {
        var range = new UffdioRange { Start = start, Length = length };
        if (Sys.Ioctl(_fd, UffdioUnregisterRequest, &range) < 0)
            throw new SyscallException("ioctl(UFFDIO_UNREGISTER)", Errno.Last, $"range 0x{start:x}+{length}");
    }

    /// <summary>
    /// Fills the missing pages at <paramref name="destination"/> with <paramref name="source"/> (whole pages). The
    /// kernel may stop early with EAGAIN when the address space changes under it; the rest is then copied again.
    /// </summary>
    public unsafe void Copy(ulong destination, ReadOnlySpan<byte> source)
    {
        fixed (byte* data = source)
        {
            var done = 0UL;
            while (done < (ulong)source.Length)
            {
                var copy = new UffdioCopy
                {
                    Destination = destination + done,
                    Source = (ulong)(data + done),
                    Length = (ulong)source.Length - done,
                    Mode = CopyModeDontWake,
                };
                if (Sys.Ioctl(_fd, UffdioCopyRequest, &copy) == 0)
                    return;
                var errno = Errno.Last;
                if (errno != Errno.EAGAIN || copy.Copied < 0)
                    throw new SyscallException("ioctl(UFFDIO_COPY)", errno, $"0x{destination + done:x}+{(ulong)source.Length - done}");
                done += (ulong)copy.Copied;
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}
