using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Tests.Web;

public sealed class MigrationCountersTests
{
    [Fact]
    public void Each_direction_and_result_counts_apart()
    {
        var counters = new MigrationCounters();
        counters.Moved(MigrationDirection.Out, TimeSpan.FromMilliseconds(40));
        counters.Count(MigrationDirection.Out, MigrationOutcome.Refused);
        counters.Count(MigrationDirection.In, MigrationOutcome.Failed);
        counters.Count(MigrationDirection.In, MigrationOutcome.Failed);
        Assert.Equal(1, counters[MigrationDirection.Out, MigrationOutcome.Moved]);
        Assert.Equal(1, counters[MigrationDirection.Out, MigrationOutcome.Refused]);
        Assert.Equal(0, counters[MigrationDirection.Out, MigrationOutcome.Failed]);
        Assert.Equal(2, counters[MigrationDirection.In, MigrationOutcome.Failed]);
        Assert.Equal(0, counters[MigrationDirection.Home, MigrationOutcome.Moved]);
    }

    [Fact]
    public void A_freeze_falls_in_the_first_bucket_whose_bound_it_does_not_exceed()
    {
        var histogram = new FreezeHistogram();
        histogram.Observe(TimeSpan.FromMilliseconds(5));     // on the 5 ms bound: that bucket (le means "at most")
        histogram.Observe(TimeSpan.FromMilliseconds(6));     // 10 ms
        histogram.Observe(TimeSpan.FromSeconds(45));         // above every bound
        var (counts, sum) = histogram.Snapshot();
        Assert.Equal(FreezeHistogram.Bounds.Length + 1, counts.Length);
        Assert.Equal(1, counts[0]);
        Assert.Equal(1, counts[1]);
        Assert.Equal(1, counts[^1]);
        Assert.Equal(3, counts.Sum());
        Assert.Equal(45.011, sum, 9);
    }

    [Fact]
    public void Counts_from_many_threads_are_all_kept()
    {
        var counters = new MigrationCounters();
        Parallel.For(0, 1000, _ => counters.Moved(MigrationDirection.Home, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(1000, counters[MigrationDirection.Home, MigrationOutcome.Moved]);
        Assert.Equal(1000, counters.Freeze.Snapshot().Counts.Sum());
    }
}
