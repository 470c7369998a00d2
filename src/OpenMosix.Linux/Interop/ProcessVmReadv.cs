namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "process_vm_readv", SetLastError = true)]
    internal static unsafe partial nint ProcessVmReadv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);
}
