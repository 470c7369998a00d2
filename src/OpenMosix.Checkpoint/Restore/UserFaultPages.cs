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
    private UserFaultFd? _fd;
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
        try
        {
            return Open(pid, injector, anonymousWithContents, UserFaultFd.FlagsForNew, 0);
        }
        catch (SyscallException e)
        {
            logger.LogInformation("userfaultfd unusable for the restored process ({Error}): pages are written with process_vm_writev", e.Message);
            return null;
        }
    }

    /// <summary>
    /// For post-copy: the regions stay registered and their pages missing, for a <see cref="Postcopy.PostcopyServer"/>
    /// to fill on fault. Every access waits for its page, a system call's too, and the server hears of forks, moves
    /// and discards. Throws when the kernel refuses (there is no other way to run a process whose pages are elsewhere).
    /// </summary>
    public static UserFaultPages OpenForServing(int pid, SyscallInjector injector, IEnumerable<MemoryRegion> anonymousWithContents)
    {
        try
        {
            return Open(pid, injector, anonymousWithContents, UserFaultFd.FlagsForServing, UserFaultFd.ServingEvents);
        }
        catch (SyscallException e)
        {
            throw new RestoreException($"post-copy needs a userfaultfd that serves kernel accesses and forks: {e.Message}");
        }
    }

    private static UserFaultPages Open(int pid, SyscallInjector injector, IEnumerable<MemoryRegion> regions, long flags, ulong features)
    {
        var inStub = injector.Raw(Userfaultfd, flags);
        if (inStub < 0) throw new SyscallException("userfaultfd (in the restore stub)", Errno.FromNegated(inStub));
        UserFaultFd? fd = null;
        try
        {
            using (var process = PidFd.Open(pid))
                fd = UserFaultFd.Adopt(process.GetFd((int)inStub), features);
            var registered = new HashSet<MemoryRegion>();
            foreach (var r in regions)
            {
                fd.RegisterMissing(r.Start, r.Length);
                registered.Add(r);
            }
            return new UserFaultPages(fd, registered);
        }
        catch
        {
            fd?.Dispose();
            throw;
        }
        finally
        {
            injector.Raw(Close, inStub);
        }
    }

    public bool Covers(MemoryRegion region) => _registered.Contains(region);

    public void Copy(ulong address, ReadOnlySpan<byte> pages) => Descriptor.Copy(address, pages);

    public void Release()
    {
        foreach (var r in _registered) Descriptor.Unregister(r.Start, r.Length);
        _registered.Clear();
    }

    /// <summary>Hands the descriptor, its regions still registered, to whoever serves their faults from now on.</summary>
    public UserFaultFd TakeDescriptor()
    {
        var fd = Descriptor;
        _fd = null;
        _registered.Clear();
        return fd;
    }

    private UserFaultFd Descriptor => _fd ?? throw new ObjectDisposedException(nameof(UserFaultPages));

    public void Dispose() => _fd?.Dispose();
}
