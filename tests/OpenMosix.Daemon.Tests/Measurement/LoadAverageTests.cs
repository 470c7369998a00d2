using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Daemon.Tests.Measurement;

public sealed class LoadAverageTests
{
    [Fact]
    public void The_first_sample_is_the_average()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(4));
        Assert.Equal(3, average.Add(3, TimeSpan.Zero));
    }

    [Fact]
    public void After_one_half_life_the_average_has_moved_half_way()
    {
        var average = new LoadAverage(TimeSpan.FromSeconds(4));
        average.Add(0, TimeSpan.Zero);
        Assert.Equal(1.0, average.Add(2, TimeSpan.FromSeconds(4)), 6);
    }

    [Fact]
    public void Many_small_steps_decay_like_one_big_one()
    {
        var stepped = new LoadAverage(TimeSpan.FromSeconds(2));
        stepped.Add(4, TimeSpan.Zero);
        for (var ms = 250; ms <= 6000; ms += 250) stepped.Add(0, TimeSpan.FromMilliseconds(ms));
        Assert.Equal(4 * Math.Pow(0.5, 3), stepped.Value, 6);
    }
}
