namespace OpenMosix.Checkpoint.Format;

/// <summary>What a full pass over an image found; every check of <see cref="ImageReader"/> has passed.</summary>
public sealed record ImageSummary(
    ProcessImage Metadata,
    ImageFlags Flags,
    ulong PageSections,
    ulong PageRuns,
    ulong PageBytes,
    long ImageBytes,
    IReadOnlyDictionary<ulong, ulong> StoredBytesByRegion);

public static class ImageVerifier
{
    /// <summary>Reads a whole image, checking everything; throws <see cref="CorruptImageException"/> on any damage.</summary>
    public static ImageSummary Verify(Stream stream)
    {
        using var reader = new ImageReader(stream, leaveOpen: true);
        var image = reader.ReadMetadata();
        var perRegion = new Dictionary<ulong, ulong>();
        var region = 0;
        while (reader.ReadNextPageRun() is { } run)
        {
            while (image.Regions[region].End <= run.Address) region++;
            var start = image.Regions[region].Start;
            perRegion[start] = perRegion.GetValueOrDefault(start) + (ulong)run.Data.Length;
        }
        return new ImageSummary(image, reader.Flags, reader.PageSections, reader.PageRuns, reader.PageBytes, reader.Position, perRegion);
    }

    public static ImageSummary VerifyFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Verify(file);
    }
}
