using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>Takes pages and forgets them: what the dumper costs without any image format or I/O.</summary>
internal sealed class DiscardSink : IImageSink
{
    public void WriteMetadata(ProcessImage image) { }
    public void WritePages(ulong address, ReadOnlySpan<byte> data) { }
    public void Complete() { }
}
