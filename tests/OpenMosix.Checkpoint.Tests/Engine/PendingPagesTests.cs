using OpenMosix.Checkpoint.Postcopy;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class PendingPagesTests
{
    private const ulong Page = 4096;

    [Fact]
    public void Pages_copied_out_of_the_middle_leave_the_rest_pending_on_both_sides()
    {
        var pending = new PendingPages();
        pending.Add(0x10000, 8 * Page);
        pending.Remove(0x10000 + 2 * Page, Page);
        Assert.Equal(2 * Page, pending.RunAt(0x10000, ulong.MaxValue));
        Assert.Equal(0UL, pending.RunAt(0x10000 + 2 * Page, ulong.MaxValue));
        Assert.Equal(5 * Page, pending.RunAt(0x10000 + 3 * Page, ulong.MaxValue));
        Assert.Equal(7 * Page, pending.Bytes);
    }

    [Fact]
    public void Moved_memory_keeps_its_pending_pages_and_where_they_were_when_frozen()
    {
        var pending = new PendingPages();
        pending.Add(0x10000, 4 * Page);
        pending.Remove(0x10000, Page);
        pending.Move(0x10000, 0x90000, 4 * Page);
        Assert.Equal(0UL, pending.RunAt(0x10000 + Page, ulong.MaxValue));
        Assert.Equal(3 * Page, pending.RunAt(0x90000 + Page, ulong.MaxValue));
        Assert.Equal(0x10000 + 2 * Page, pending.OriginOf(0x90000 + 2 * Page));
    }

    [Fact]
    public void The_push_goes_on_from_its_cursor_and_comes_back_for_pages_moved_behind_it()
    {
        var pending = new PendingPages();
        pending.Add(0x10000, 2 * Page);
        pending.Add(0x40000, 2 * Page);
        Assert.Equal((0x40000UL, Page), pending.NextFrom(0x20000, Page));
        pending.Remove(0x40000, 2 * Page);
        Assert.Equal((0x10000UL, 2 * Page), pending.NextFrom(0x50000, 16 * Page));
    }
}
