using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A process keeps using the instruction set it found at start (glibc binds its ifuncs once, programs test cpuid
/// once), so it can only continue on a CPU that has every such feature it may have chosen, and the same xstate
/// layout for its saved registers.
/// </summary>
internal static class CpuCompatibility
{
    // The features glibc's ifunc resolvers and common -march levels key on.
    private static readonly string[] Relevant =
    [
        "sse4_1", "sse4_2", "ssse3", "popcnt", "abm", "bmi1", "bmi2", "movbe", "fma", "f16c", "avx", "avx2", "avx512f",
        "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni", "avx_vnni", "amx_tile", "xsave", "erms", "fsrm",
        "aes", "pclmulqdq", "sha_ni", "adx", "rtm",
    ];

    public static void Check(ProcessImage image) => Check(image.Origin.CpuFeatures, ProcessInspector.ReadCpuFeatures());

    public static void Check(string imageFeatures, string localFeatures)
    {
        if (imageFeatures.Length == 0) return;
        var here = localFeatures.Split(' ').ToHashSet(StringComparer.Ordinal);
        var missing = imageFeatures.Split(' ').Where(f => Relevant.Contains(f) && !here.Contains(f)).ToList();
        if (missing.Count > 0)
            throw new RestoreException($"this CPU lacks {string.Join(' ', missing)}, which the image's process may use");
    }

    public static void CheckExtendedStateSize(int imageBytes, int localBytes)
    {
        if (imageBytes != localBytes)
            throw new RestoreException($"the image's extended CPU state is {imageBytes} bytes but {localBytes} here: the CPUs differ");
    }
}
