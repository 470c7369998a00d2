using OpenMosix.Balancing.Demand;

namespace OpenMosix.Balancing.Tests;

public sealed class ProgramLifetimesTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_program_is_unknown_until_it_has_run_the_required_number_of_times()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 3);
        Assert.Null(lifetimes.Typical("cc"));
        lifetimes.Record("cc", S(1));
        lifetimes.Record("cc", S(2));
        Assert.Null(lifetimes.Typical("cc"));
        lifetimes.Record("cc", S(3));
        Assert.Equal(S(2), lifetimes.Typical("cc"));
        Assert.Null(lifetimes.Typical("ld"));
    }

    [Fact]
    public void One_very_long_run_does_not_make_a_short_program_look_long()
    {
        var lifetimes = new ProgramLifetimes();
        foreach (var seconds in new[] { 0.01, 0.02, 0.01, 3600, 0.02 }) lifetimes.Record("true", S(seconds));
        Assert.Equal(S(0.02), lifetimes.Typical("true"));
    }

    [Fact]
    public void Only_the_most_recent_runs_count_so_a_program_that_changes_is_relearned()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 2, kept: 4);
        foreach (var seconds in new[] { 0.01, 0.01, 0.01, 0.01, 5, 5, 5, 5 }) lifetimes.Record("test", S(seconds));
        Assert.Equal(S(5), lifetimes.Typical("test"));
        lifetimes.Record("even", S(1));
        lifetimes.Record("even", S(2));
        Assert.Equal(S(1.5), lifetimes.Typical("even"));
    }

    [Fact]
    public void Inconsistent_sizes_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProgramLifetimes(knownAfter: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProgramLifetimes(knownAfter: 5, kept: 4));
    }
}
