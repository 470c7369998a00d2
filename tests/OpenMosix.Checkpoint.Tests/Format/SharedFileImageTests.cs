using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>
/// Images with a writable shared file mapping: its path is opened, created and written on restore, so it must be a
/// plain absolute file name, and its pages may lie only inside the file's recorded size.
/// </summary>
public sealed class SharedFileImageTests
{
    // 16 pages mapped from offset 8192 of a 40000-byte file: the mapping's pages 0-7 lie in the file (the last in part).
    private const ulong Start = 0x7f00_0001_0000;

    [Fact]
    public void Pages_inside_the_file_of_a_shared_file_mapping_are_read_back()
    {
        var image = With(Mapping());
        var (read, runs) = SampleImages.Read(new MemoryStream(CraftedImages.Build(image, CraftedImages.Runs((Start, 4096), (Start + 7 * 4096, 4096)))));
        var region = Assert.Single(read.Regions, r => r.Kind == RegionKind.SharedFile);
        Assert.Equal((40000L, 8192UL, "/tmp/hsperfdata_root/4242"), (region.FileSize, region.FileOffset, region.Name));
        Assert.Equal(2, runs.Count);
    }

    [Theory]
    [MemberData(nameof(HostileImages))]
    public void A_hostile_shared_file_mapping_is_refused_before_anything_is_restored(string reason, ProcessImage image, byte[] pages)
    {
        var e = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(CraftedImages.Build(image, pages))));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, ProcessImage, byte[]> HostileImages() => new()
    {
        { "lies outside every region that carries contents", With(Mapping()), CraftedImages.Runs((Start + 8 * 4096, 4096)) },
        { "lies outside every region that carries contents", With(Mapping(fileSize: 8192)), CraftedImages.Runs((Start, 4096)) },
        { "names no absolute file path (etc/passwd)", With(Mapping(name: "etc/passwd")), [] },
        { "names no absolute file path (/tmp/../etc/passwd)", With(Mapping(name: "/tmp/../etc/passwd")), [] },
        { "names no absolute file path (/tmp/)", With(Mapping(name: "/tmp/")), [] },
        { "is not shared and writable", With(Mapping(protection: MemoryProtection.Read)), [] },
        { "has file offset 100", With(Mapping(offset: 100)), [] },
        { "has file size -1", With(Mapping(fileSize: -1)), [] },
    };

    private static MemoryRegion Mapping(string name = "/tmp/hsperfdata_root/4242", long fileSize = 40000, ulong offset = 8192,
        MemoryProtection protection = MemoryProtection.Read | MemoryProtection.Write) => new()
    {
        Start = Start, End = Start + 16 * 4096, Protection = protection, Kind = RegionKind.SharedFile, Shared = true,
        Name = name, FileOffset = offset, FileSize = fileSize, Device = 1, Inode = 77,
    };

    private static ProcessImage With(MemoryRegion region)
    {
        var image = SampleImages.Metadata();
        image.Regions.Insert(3, region);
        return image;
    }
}
