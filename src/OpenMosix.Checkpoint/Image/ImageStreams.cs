namespace OpenMosix.Checkpoint.Image;

/// <summary>
/// Where a dump goes: metadata first, then page runs in ascending address order, then completion.
/// Implemented by the image file/stream writer and, later, by the network transport.
/// </summary>
public interface IImageSink
{
    void WriteMetadata(ProcessImage image);
    void WritePages(ulong address, ReadOnlySpan<byte> data);
    void Complete();
}

/// <summary>
/// Where a restore reads from. <see cref="ReadMetadata"/> validates header and metadata (version, checksums,
/// bounds) and throws <see cref="CorruptImageException"/> before the caller maps anything.
/// </summary>
public interface IImageSource
{
    ProcessImage ReadMetadata();
    /// <summary>Next page run, or null at the end. The data is valid until the next call.</summary>
    PageRun? ReadNextPageRun();

    /// <summary>
    /// How <see cref="ReadNextPageRun"/> waits for data still on its way (null: it just blocks). A restore sets it to
    /// serve other work on its thread meanwhile, since a slow sender can keep it waiting for seconds; a source that
    /// never waits may ignore it.
    /// </summary>
    Action<Task>? WaitForSection { get; set; }
}

/// <summary>The image is damaged, truncated, from an unknown version, or inconsistent; nothing was restored.</summary>
public sealed class CorruptImageException(string message) : Exception(message);
