namespace OpenMosix.Checkpoint.Format;

/// <summary>Builds <see cref="CorruptImageException"/>s that say where in the image the damage is.</summary>
internal static class Corrupt
{
    public static CorruptImageException At(long offset, string reason) => new($"corrupt image at byte {offset}: {reason}");
    public static CorruptImageException Truncated(long offset, string expected) =>
        new($"image truncated at byte {offset} (expected {expected})");
}
