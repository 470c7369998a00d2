namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "process_vm_writev", SetLastError = true)]
    internal static unsafe partial nint ProcessVmWritev(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);
}
