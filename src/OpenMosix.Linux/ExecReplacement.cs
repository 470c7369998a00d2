namespace OpenMosix.Linux;

/// <summary>
/// execve: this process becomes another program, keeping its PID, parent, terminal, descriptors not marked
/// close-on-exec, and cgroups. Returns only by throwing.
/// </summary>
public static class ExecReplacement
{
    private const int SigSetSize = 128;

    /// <summary>
    /// Replaces this process with <paramref name="path"/> (an absolute path; no PATH search). The .NET runtime ignores
    /// SIGPIPE and an ignored signal survives execve, so SIGPIPE is reset to its default first, and the signal mask is
    /// emptied, so that the new program starts as if a shell had started it.
    /// </summary>
    public static unsafe void Replace(string path, IReadOnlyList<string> arguments, IReadOnlyList<string>? environment = null)
    {
        if (Sys.Signal(Signals.SIGPIPE, Sys.SIG_DFL) == Sys.SIG_ERR) throw SyscallException.FromLastError("signal(SIGPIPE, SIG_DFL)");
        var empty = stackalloc byte[SigSetSize];
        new Span<byte>(empty, SigSetSize).Clear();
        var error = Sys.PthreadSigmask(Sys.SIG_SETMASK, empty, null);
        if (error != 0) throw new SyscallException("pthread_sigmask(SIG_SETMASK)", error);

        var owned = new List<nint>();
        try
        {
            var file = NativeStrings.Utf8(path, owned);
            var argv = NativeStrings.NullTerminated(arguments, owned);
            var envp = NativeStrings.NullTerminated(environment ?? NativeStrings.CurrentEnvironment(), owned);
            Sys.Execve((byte*)file, (byte**)argv, (byte**)envp);
            throw new SyscallException("execve", Errno.Last, path);
        }
        finally
        {
            NativeStrings.Free(owned);
        }
    }
}
