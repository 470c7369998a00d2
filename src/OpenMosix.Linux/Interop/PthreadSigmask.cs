namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int SIG_SETMASK = 2;

    /// <summary>Returns the error number itself (0 on success); it does not set errno.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pthread_sigmask")]
    internal static unsafe partial Errno PthreadSigmask(int how, byte* set, byte* oldSet);
}
