using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>An image file read through its mapping (a restore's one-copy path) gives what reading it gives, and is checked alike.</summary>
public sealed class MappedImageTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_mapped_image_file_reads_back_every_page_as_a_read_one_does(bool compress)
    {
        var runs = SampleImages.Runs(seed: 3, heapPages: 8192);
        var bytes = SampleImages.Write(SampleImages.Metadata(heapPages: 8192), runs, compress);
        using var file = new TempImage(bytes);

        var (image, mapped) = ReadMapped(file.Path);
        var (_, read) = SampleImages.Read(new MemoryStream(bytes));

        Assert.Equal(Pages(runs), Pages(mapped));
        Assert.Equal(read.Select(r => (r.Address, r.Data.Length)), mapped.Select(r => (r.Address, r.Data.Length)));
        Assert.Equal(SampleImages.Metadata(heapPages: 8192).Attributes.Brk, image.Attributes.Brk);
    }

    [Fact]
    public void A_mapped_image_that_does_not_start_at_the_beginning_of_its_file_is_read_from_where_it_starts()
    {
        var bytes = SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs(seed: 4));
        using var file = new TempImage([.. new byte[4096 + 17], .. bytes]);

        using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        stream.Position = 4096 + 17;
        var (_, mapped) = ReadAll(new ImageReader(stream, mapFile: true));

        Assert.Equal(Pages(SampleImages.Runs(seed: 4)), Pages(mapped));
    }

    [Fact]
    public void A_damaged_page_in_a_mapped_image_file_is_refused_as_in_a_read_one()
    {
        var bytes = SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs());
        bytes[^4096] ^= 0x5a;
        using var file = new TempImage(bytes);

        var e = Assert.Throws<CorruptImageException>(() => ReadMapped(file.Path));

        Assert.Contains("checksum mismatch", e.Message, StringComparison.Ordinal);
    }

    private static (ProcessImage, List<(ulong Address, byte[] Data)>) ReadMapped(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return ReadAll(new ImageReader(stream, mapFile: true));
    }

    private static (ProcessImage, List<(ulong Address, byte[] Data)>) ReadAll(ImageReader owned)
    {
        using var reader = owned;
        var image = reader.ReadMetadata();
        var runs = new List<(ulong, byte[])>();
        while (reader.ReadNextPageRun() is { } run) runs.Add((run.Address, run.Data.ToArray()));
        return (image, runs);
    }

    private static byte[] Pages(IEnumerable<(ulong Address, byte[] Data)> runs) => [.. runs.OrderBy(r => r.Address).SelectMany(r => r.Data)];

    private sealed class TempImage : IDisposable
    {
        public TempImage(byte[] bytes)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"om-mapped-{Guid.NewGuid():N}.omimg");
            File.WriteAllBytes(Path, bytes);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
