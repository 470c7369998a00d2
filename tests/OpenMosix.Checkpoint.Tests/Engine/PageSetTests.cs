using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class PageSetTests
{
    private static MemoryRegion Region(ulong start, ulong length) =>
        new() { Start = start, End = start + length, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Anonymous };

    [Fact]
    public void Pages_added_come_back_as_ascending_runs_of_consecutive_pages()
    {
        var set = new PageSet(Region(0x10000, 64 * 4096));
        set.Add(0x10000 + 5 * 4096, 4096);
        set.Add(0x10000 + 2 * 4096, 3 * 4096);
        set.Add(0x10000 + 63 * 4096, 4096);
        Assert.Equal([(0x12000UL, 0x16000UL), (0x4f000UL, 0x50000UL)], set.Runs());
        Assert.True(set.Contains(0x14000));
        Assert.False(set.Contains(0x16000));
    }

    [Fact]
    public void A_range_of_more_than_two_gigabytes_is_held_whole()
    {
        const ulong length = 3UL << 30;
        var set = new PageSet(Region(0x7f0000000000, length));
        set.Add(0x7f0000000000, length);
        Assert.Equal([(0x7f0000000000UL, 0x7f0000000000UL + length)], set.Runs());
    }

    [Fact]
    public void A_range_outside_the_region_is_refused()
    {
        var set = new PageSet(Region(0x10000, 4 * 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(0x10000, 5 * 4096));
    }
}
