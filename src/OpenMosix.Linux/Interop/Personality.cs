namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const uint ADDR_NO_RANDOMIZE = 0x0040000;
    internal const uint PersonalityQuery = 0xffffffff;

    /// <summary>Sets the calling thread's personality (it is per task) and returns the previous one.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "personality", SetLastError = true)]
    internal static partial int Personality(uint persona);
}
