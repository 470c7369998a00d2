namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>sendmsg(2); <paramref name="message"/> points to a struct msghdr (56 bytes on x86_64).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(SafeHandle socket, byte* message, int flags);
}
