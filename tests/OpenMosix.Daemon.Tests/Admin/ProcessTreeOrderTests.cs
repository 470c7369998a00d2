using OpenMosix.Admin;

namespace OpenMosix.Daemon.Tests.Admin;

public sealed class ProcessTreeOrderTests
{
    private static ProcessRow Row(int pid, int parent) =>
        new(pid, 0, 1, 1, "home", 0, false, [], 0, 0, $"p{pid}", 0, parent);

    [Fact]
    public void Each_process_follows_its_parent_depth_first_with_children_in_pid_order()
    {
        var order = ProcessTreeOrder.Order([Row(30, 10), Row(10, 0), Row(20, 10), Row(40, 20), Row(5, 0)]);
        Assert.Equal([(5, 0), (10, 0), (20, 1), (40, 2), (30, 1)], order.Select(o => (o.Row.Pid, o.Depth)));
    }

    [Fact]
    public void A_process_whose_parent_is_not_listed_is_a_root()
    {
        var order = ProcessTreeOrder.Order([Row(7, 3), Row(8, 7)]);
        Assert.Equal([(7, 0), (8, 1)], order.Select(o => (o.Row.Pid, o.Depth)));
    }

    [Fact]
    public void Parents_that_point_at_each_other_are_shown_once_each_rather_than_lost()
    {
        var order = ProcessTreeOrder.Order([Row(1, 2), Row(2, 1), Row(3, 3)]);
        Assert.Equal([1, 2, 3], order.Select(o => o.Row.Pid).Order());
        Assert.Equal(3, order.Count);
    }
}
