using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

public sealed class CorruptImageTests
{
    private static readonly byte[] Good = SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs());
    private static readonly byte[] GoodCompressed = SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs(), compress: true);

    [Fact]
    public void An_empty_file_is_not_an_image()
    {
        var e = Refused([]);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_something_else_is_not_an_image()
    {
        var e = Refused(Encoding.ASCII.GetBytes("#!/bin/sh\necho this is a script, not an image\n"));
        Assert.Contains("bad magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_of_another_format_version_is_refused_by_name()
    {
        var bytes = (byte[])Good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 7);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), XxHash64.HashToUInt64(bytes.AsSpan(0, 24)));
        var e = Refused(bytes);
        Assert.Contains("unsupported image format version 7", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Any_single_flipped_bit_anywhere_is_detected(bool compressed)
    {
        var source = compressed ? GoodCompressed : Good;
        var random = new Random(20261125);
        for (var i = 0; i < 300; i++)
        {
            var bytes = (byte[])source.Clone();
            var at = random.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << random.Next(8));
            Refused(bytes, $"bit flip at byte {at}");
        }
    }

    [Fact]
    public void Truncation_at_any_point_is_detected_including_exact_section_boundaries()
    {
        var cuts = SectionBoundaries(Good).Concat(Enumerable.Range(0, 200).Select(i => i * (Good.Length / 200))).Distinct();
        foreach (var cut in cuts.Where(c => c < Good.Length))
            Refused(Good.AsSpan(0, cut).ToArray(), $"cut at {cut}");
    }

    [Fact]
    public void Bytes_after_the_end_section_are_refused()
    {
        var e = Refused([.. Good, 0]);
        Assert.Contains("after the end", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_that_claims_gigabytes_is_refused_before_anything_is_allocated()
    {
        var bytes = Good.AsSpan(0, ImageFormat.FileHeaderSize).ToArray()
            .Concat(CraftedImages.SectionHeaderBytes(SectionType.Metadata, int.MaxValue, int.MaxValue)).ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Refused(bytes);
        Assert.Contains("claims", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated for a lying length");
    }

    [Fact]
    public void A_page_run_outside_every_region_with_contents_is_refused()
    {
        // 0x7f00_0000_0000 is the PROT_NONE reservation of the sample: it carries no contents.
        var e = Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((0x7f00_0000_0000, 4096))));
        Assert.Contains("outside every region", e.Message, StringComparison.Ordinal);
        Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((0x1000, 4096))));
    }

    [Fact]
    public void Overlapping_descending_and_unaligned_runs_are_refused()
    {
        var heap = SampleImages.HeapStart;
        Assert.Contains("overlaps", Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((heap, 8192), (heap + 4096, 4096)))).Message, StringComparison.Ordinal);
        Assert.Contains("overlaps", Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((heap + 8192, 4096)), CraftedImages.Runs((heap, 4096)))).Message, StringComparison.Ordinal);
        Assert.Contains("page-aligned", Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((heap + 12, 4096)))).Message, StringComparison.Ordinal);
        Assert.Contains("page-aligned", Refused(CraftedImages.Build(SampleImages.Metadata(), CraftedImages.Runs((heap, 100)))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_whose_length_runs_past_its_section_is_refused()
    {
        var payload = CraftedImages.Runs((SampleImages.HeapStart, 4096));
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), 1UL << 40);
        Refused(CraftedImages.Build(SampleImages.Metadata(), payload));
    }

    [Fact]
    public void Metadata_that_is_not_a_process_description_is_refused()
    {
        Assert.Contains("metadata", Refused(CraftedImages.Build(Encoding.UTF8.GetBytes("{\"hello\": 1}"))).Message, StringComparison.Ordinal);
        Refused(CraftedImages.Build(Encoding.UTF8.GetBytes("not json at all")));
        Refused(CraftedImages.Build(Encoding.UTF8.GetBytes("null")));
    }

    [Fact]
    public void Metadata_describing_an_impossible_address_space_is_refused()
    {
        var image = SampleImages.Metadata();
        image.Regions.Add(new MemoryRegion { Start = 0x1234, End = 0x5000, Protection = MemoryProtection.Read, Kind = RegionKind.Anonymous });
        Assert.Contains("page-aligned", Refused(CraftedImages.Build(image)).Message, StringComparison.Ordinal);

        var kernel = SampleImages.Metadata();
        kernel.Regions.Add(new MemoryRegion { Start = 0xffff_8000_0000_0000, End = 0xffff_8000_0000_1000, Protection = MemoryProtection.Read, Kind = RegionKind.Anonymous });
        Assert.Contains("outside user space", Refused(CraftedImages.Build(kernel)).Message, StringComparison.Ordinal);

        var registers = SampleImages.Metadata();
        var shortRegisters = new ProcessImage
        {
            Origin = registers.Origin, Signals = registers.Signals, Attributes = registers.Attributes, Regions = registers.Regions,
            Cpu = new CpuState { GeneralRegisters = new byte[8], ExtendedState = registers.Cpu.ExtendedState },
        };
        Assert.Contains("general registers", Refused(CraftedImages.Build(shortRegisters)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_garbage_of_any_size_never_escapes_as_anything_but_a_corrupt_image()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(0, 4096)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length >= 40) Good.AsSpan(0, 40).CopyTo(bytes); // a valid start, then noise
            Refused(bytes, $"garbage #{i}");
        }
    }

    private static CorruptImageException Refused(byte[] bytes, string? what = null)
    {
        try
        {
            ImageVerifier.Verify(new MemoryStream(bytes));
        }
        catch (CorruptImageException e)
        {
            return e;
        }
        Assert.Fail($"the damaged image was accepted ({what ?? "no description"})");
        throw new InvalidOperationException();
    }

    /// <summary>Offsets where each section header starts, and the end of the file header.</summary>
    private static IEnumerable<int> SectionBoundaries(byte[] image)
    {
        var at = ImageFormat.FileHeaderSize;
        yield return at;
        while (at < image.Length)
        {
            var stored = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(at + 12));
            yield return at + ImageFormat.SectionHeaderSize;
            at += ImageFormat.SectionHeaderSize + stored;
            yield return at;
        }
    }
}
