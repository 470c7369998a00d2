namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    /// <summary>An invalid handle (-1) when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeFileHandle Open(string path, OpenFlags flags, int mode);
}
