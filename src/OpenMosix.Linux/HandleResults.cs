namespace OpenMosix.Linux;

internal static class HandleResults
{
    /// <summary>
    /// Passes on the descriptor an import returned, or, when the call failed (the handle is invalid), throws for the
    /// errno the call left.
    /// </summary>
    public static T OrThrow<T>(this T handle, string syscall, string? context = null) where T : SafeHandle
    {
        if (!handle.IsInvalid) return handle;
        var errno = Errno.Last;
        handle.Dispose();
        throw context is null ? new SyscallException(syscall, errno) : new SyscallException(syscall, errno, context);
    }
}
