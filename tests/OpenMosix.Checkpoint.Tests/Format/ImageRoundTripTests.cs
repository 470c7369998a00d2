using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

public sealed class ImageRoundTripTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_page_and_metadata_field_survives_a_write_and_a_read(bool compress)
    {
        var image = SampleImages.Metadata();
        var runs = SampleImages.Runs();
        var bytes = SampleImages.Write(image, runs, compress);

        var (read, readRuns) = SampleImages.Read(new MemoryStream(bytes));

        Assert.Equal(Pages(runs), Pages(readRuns));
        Assert.Equal(image.Origin.Arguments, read.Origin.Arguments);
        Assert.Equal(image.Cpu.GeneralRegisters, read.Cpu.GeneralRegisters);
        Assert.Equal(image.Cpu.ExtendedState, read.Cpu.ExtendedState);
        Assert.Equal(image.Signals.Actions, read.Signals.Actions);
        Assert.Equal(14, Assert.Single(read.Signals.Pending).Number);
        Assert.Equal(image.Attributes.Brk, read.Attributes.Brk);
        Assert.Equal(image.Regions.Select(r => (r.Start, r.End, r.Kind, r.Protection, r.Name)), read.Regions.Select(r => (r.Start, r.End, r.Kind, r.Protection, r.Name)));
        Assert.Equal(8192, Assert.Single(read.Files).Offset);
    }

    [Fact]
    public void An_image_streams_through_a_pipe_like_stream_that_cannot_seek()
    {
        var runs = SampleImages.Runs(seed: 5);
        var sink = new ForwardOnlyStream(new MemoryStream());
        using (var writer = new ImageWriter(sink, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteMetadata(SampleImages.Metadata());
            foreach (var (address, data) in runs) writer.WritePages(address, data);
            writer.Complete();
        }

        var (_, readRuns) = SampleImages.Read(new ForwardOnlyStream(new MemoryStream(sink.Inner.ToArray())));

        Assert.Equal(Pages(runs), Pages(readRuns));
    }

    [Fact]
    public void An_image_without_pages_reads_back_with_none()
    {
        var bytes = SampleImages.Write(SampleImages.Metadata(), []);
        var (_, runs) = SampleImages.Read(new MemoryStream(bytes));
        Assert.Empty(runs);
    }

    [Fact]
    public void An_uncompressed_image_of_incompressible_pages_is_within_five_percent_of_their_size()
    {
        var runs = SampleImages.Runs(seed: 9, heapPages: 4096);
        var pageBytes = runs.Sum(r => r.Data.Length);
        var bytes = SampleImages.Write(SampleImages.Metadata(heapPages: 4096), runs);
        Assert.InRange((double)bytes.Length / pageBytes, 1.0, 1.05);
    }

    [Fact]
    public void Compression_shrinks_repetitive_pages_and_is_recorded_in_the_header()
    {
        var runs = new List<(ulong, byte[])> { (SampleImages.HeapStart, Enumerable.Repeat((byte)'a', 64 * 4096).ToArray()) };
        var raw = SampleImages.Write(SampleImages.Metadata(), runs);
        var compressed = SampleImages.Write(SampleImages.Metadata(), runs, compress: true);

        Assert.True(compressed.Length * 10 < raw.Length, $"compressed {compressed.Length} vs raw {raw.Length}");
        var summary = ImageVerifier.Verify(new MemoryStream(compressed));
        Assert.True(summary.Flags.HasFlag(ImageFlags.Compressed));
        Assert.Equal(64UL * 4096, summary.PageBytes);
    }

    [Fact]
    public void A_run_larger_than_a_section_is_split_and_reassembled()
    {
        var big = new byte[40 << 20];
        new Random(3).NextBytes(big);
        var image = SampleImages.Metadata(heapPages: big.Length / 4096);
        var bytes = SampleImages.Write(image, [(SampleImages.HeapStart, big)]);

        var (_, runs) = SampleImages.Read(new MemoryStream(bytes));

        Assert.True(runs.Count >= 3);
        Assert.Equal(big, runs.SelectMany(r => r.Data).ToArray());
    }

    [Fact]
    public void Readers_one_after_another_each_return_their_own_pages_though_they_reuse_section_buffers()
    {
        // The big image fills whole 16 MB section buffers; the small ones reuse them and must never see its bytes.
        var bigRuns = SampleImages.Runs(seed: 11, heapPages: 6000);
        var big = SampleImages.Write(SampleImages.Metadata(heapPages: 6000), bigRuns);
        var smallRuns = SampleImages.Runs(seed: 12);
        var small = SampleImages.Write(SampleImages.Metadata(), smallRuns, compress: true);

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(Pages(bigRuns), Pages(SampleImages.Read(new MemoryStream(big)).Runs));
            Assert.Equal(Pages(smallRuns), Pages(SampleImages.Read(new MemoryStream(small)).Runs));
        }
    }

    [Fact]
    public void A_reader_closed_after_the_metadata_alone_ends_its_read_ahead_quietly()
    {
        var bytes = SampleImages.Write(SampleImages.Metadata(heapPages: 6000), SampleImages.Runs(seed: 13, heapPages: 6000));
        var truncated = bytes.AsSpan(0, bytes.Length / 2).ToArray();

        foreach (var image in new[] { bytes, truncated })
        {
            using var stream = new MemoryStream(image);
            var reader = new ImageReader(stream);
            Assert.Equal(4242, reader.ReadMetadata().Origin.Pid);
            reader.Dispose();
        }
    }

    [Fact]
    public void The_writer_refuses_unaligned_and_descending_runs()
    {
        using var writer = new ImageWriter(new MemoryStream());
        writer.WriteMetadata(SampleImages.Metadata());
        Assert.Throws<ArgumentException>(() => writer.WritePages(SampleImages.HeapStart + 1, new byte[4096]));
        writer.WritePages(SampleImages.HeapStart + 8192, new byte[4096]);
        Assert.Throws<ArgumentException>(() => writer.WritePages(SampleImages.HeapStart, new byte[4096]));
    }

    /// <summary>Every stored page keyed by address, whatever the run boundaries were.</summary>
    private static SortedDictionary<ulong, string> Pages(IEnumerable<(ulong Address, byte[] Data)> runs)
    {
        var pages = new SortedDictionary<ulong, string>();
        foreach (var (address, data) in runs)
            for (var offset = 0; offset < data.Length; offset += 4096)
                pages[address + (ulong)offset] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data.AsSpan(offset, 4096)));
        return pages;
    }
}

/// <summary>A stream that, like a pipe or socket, can neither seek nor tell its length.</summary>
internal sealed class ForwardOnlyStream(MemoryStream inner) : Stream
{
    public MemoryStream Inner => inner;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 4093));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
}
