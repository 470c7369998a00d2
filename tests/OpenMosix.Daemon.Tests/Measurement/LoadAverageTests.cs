using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Daemon.Tests.Measurement;

public sealed class LoadAverageTests
{
    [Fact]
    public void The_average_starts_at_zero_so_a_busy_start_is_not_taken_for_load()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(4));
        Assert.Equal(0, average.Add(3, TimeSpan.Zero));
        Assert.Equal(1.5, average.Add(3, TimeSpan.FromSeconds(4)), 6);
    }

    [Fact]
    public void A_sample_from_the_past_changes_nothing()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(1));
        var now = average.Add(8, TimeSpan.FromSeconds(1));
        Assert.Equal(now, average.Add(100, TimeSpan.FromSeconds(0.5)));
    }

    [Fact]
    public void With_a_shorter_rise_half_life_new_load_shows_at_once_and_fades_slowly()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(0.5));
        // Two rise half-lives in one second: three quarters of the way.
        Assert.Equal(3.0, average.Add(4, TimeSpan.FromSeconds(1)), 6);
        // Idle for one (fall) half-life: half of it is still there.
        Assert.Equal(1.5, average.Add(0, TimeSpan.FromSeconds(5)), 6);
    }

    [Fact]
    public void After_one_half_life_the_average_has_moved_half_way()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(4));
        Assert.Equal(1.0, average.Add(2, TimeSpan.FromSeconds(4)), 6);
    }

    [Fact]
    public void Many_small_steps_decay_like_one_big_one()
    {
        var stepped = new LoadAverage(TimeSpan.FromSeconds(2));
        for (var ms = 250; ms <= 6000; ms += 250) stepped.Add(4, TimeSpan.FromMilliseconds(ms));
        Assert.Equal(4 * (1 - Math.Pow(0.5, 3)), stepped.Value, 6);
    }
}
