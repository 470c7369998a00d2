using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The new process's anonymous memory, opened for filling with UFFDIO_COPY: a userfaultfd created inside the stub by
/// an injected call and taken over with pidfd_getfd (the stub's own descriptor is closed at once), with every anonymous
/// region that carries contents registered for missing pages. Each page is then allocated and filled in one pass,
/// where faulting it in and writing it with process_vm_writev zero-fills it first and walks it twice.
/// <see cref="Release"/> unregisters the regions; disposing closes the descriptor, which also drops any registration
/// still left, so the process ends up as if no userfaultfd had ever existed.
/// </summary>
internal sealed class UserFaultPages : IDisposable
{
    private readonly UserFaultFd _fd;
    private readonly HashSet<MemoryRegion> _registered;

    private UserFaultPages(UserFaultFd fd, HashSet<MemoryRegion> registered)
    {
        _fd = fd;
        _registered = registered;
    }

    /// <summary>Null when this kernel or its policy refuses userfaultfd for the process (the caller then writes pages
    /// with process_vm_writev); why is logged.</summary>
    public static UserFaultPages? TryOpen(int pid, SyscallInjector injector, IEnumerable<MemoryRegion> anonymousWithContents, ILogger logger)
    {
        // UserModeOnly: a kernel-mode access to a missing registered page (a stray process_vm_writev) fails with
        // EFAULT instead of waiting for a fault handler that would never answer.
        var inStub = injector.Raw(Userfaultfd, UserFaultFd.FlagsForNew);
        if (inStub < 0)
        {
            logger.LogInformation("userfaultfd refused in the restore stub ({Error}): pages are written with process_vm_writev", Errno.FromNegated(inStub).Name());
            return null;
        }
        UserFaultFd? fd = null;
        try
        {
            using (var process = PidFd.Open(pid))
                fd = UserFaultFd.Adopt(process.GetFd((int)inStub));
            var registered = new HashSet<MemoryRegion>();
            foreach (var r in anonymousWithContents)
            {
                fd.RegisterMissing(r.Start, r.Length);
                registered.Add(r);
            }
            return new UserFaultPages(fd, registered);
        }
        catch (SyscallException e)
        {
            fd?.Dispose();
            logger.LogInformation("userfaultfd unusable for the restored process ({Error}): pages are written with process_vm_writev", e.Message);
            return null;
        }
        finally
        {
            injector.Raw(Close, inStub);
        }
    }

    public bool Covers(MemoryRegion region) => _registered.Contains(region);

    public void Copy(ulong address, ReadOnlySpan<byte> pages) => _fd.Copy(address, pages);

    public void Release()
    {
        foreach (var r in _registered) _fd.Unregister(r.Start, r.Length);
        _registered.Clear();
    }

    public void Dispose() => _fd.Dispose();
}
