namespace OpenMosix.Linux.Interop;

internal static class Libraries
{
    public const string Libc = "libc";
}
