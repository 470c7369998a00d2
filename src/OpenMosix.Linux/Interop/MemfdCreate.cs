namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const uint MFD_CLOEXEC = 1;

    /// <summary>An invalid handle (-1) when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeFileHandle MemfdCreate(string name, uint flags);
}
