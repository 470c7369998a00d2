namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Checks each thread's <see cref="Privileges"/> against what the kernel itself guarantees (effective and ambient
/// capabilities lie in the permitted set, ambient ones in the inheritable set too), known securebits, a dumpable flag
/// prctl can set, and seccomp filters of a size the kernel would take: a restore then never meets a state the kernel
/// could not have produced.
/// </summary>
internal static class PrivilegeValidator
{
    /// <summary>SECBIT_NOROOT through SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (bits 0-11).</summary>
    private const int KnownSecurebits = 0xfff;
    /// <summary>BPF_MAXINSNS per filter, MAX_INSNS_PER_PATH (32768, each filter counting 4 more) per thread.</summary>
    private const int MaxFilterInstructions = 4096, MaxPathInstructions = 32768, FilterPenalty = 4;
    private const int InstructionSize = 8;

    public static void Validate(ProcessImage image)
    {
        MetadataValidator.Require(image.Attributes.Dumpable is 0 or 1, $"dumpable flag {image.Attributes.Dumpable}");
        Validate("the main thread", image.MainThread.Privileges);
        foreach (var thread in image.Threads) Validate($"thread {thread.Tid}", thread.Settings.Privileges);
    }

    private static void Validate(string who, Privileges p)
    {
        MetadataValidator.Require((p.Effective & ~p.Permitted) == 0, $"{who}: effective capabilities outside its permitted set");
        MetadataValidator.Require((p.Ambient & ~(p.Permitted & p.Inheritable)) == 0, $"{who}: ambient capabilities outside its permitted and inheritable sets");
        MetadataValidator.Require((p.Securebits & ~KnownSecurebits) == 0, $"{who}: unknown securebits 0x{p.Securebits:x}");
        var path = 0;
        foreach (var filter in p.SeccompFilters)
        {
            MetadataValidator.Require(filter.Program.Length % InstructionSize == 0
                && filter.Program.Length / InstructionSize is > 0 and <= MaxFilterInstructions, $"{who}: a seccomp filter of {filter.Program.Length} bytes");
            path += filter.Program.Length / InstructionSize + FilterPenalty;
        }
        MetadataValidator.Require(path <= MaxPathInstructions, $"{who}: seccomp filters of {path} instructions in all");
    }
}
