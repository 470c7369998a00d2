namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    // glibc's ptrace is variadic; on x86_64 passing all four integer arguments is the same call.
    [LibraryImport(Libraries.Libc, EntryPoint = "ptrace", SetLastError = true)]
    internal static partial long Ptrace(long request, int pid, nint address, nint data);
}
