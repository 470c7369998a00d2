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

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Programs_are_told_apart_by_their_exact_path()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 1);
        lifetimes.Record("/usr/bin/cc", Ms(1000));
        lifetimes.Record("/usr/bin/CC", Ms(3));
        Assert.Equal((Ms(1000), Ms(3), 2), (lifetimes.Typical("/usr/bin/cc"), lifetimes.Typical("/usr/bin/CC"), lifetimes.Count));
    }

    [Fact]
    public void The_program_unused_longest_is_forgotten_when_a_new_one_comes_past_the_limit()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 1, programsKept: 4);
        for (var i = 0; i < 4; i++) lifetimes.Record($"/bin/p{i}", Ms(i + 1));
        // p0 ran again lately, so p1 is now the one unused longest.
        lifetimes.Record("/bin/p0", Ms(1));
        lifetimes.Record("/bin/new", Ms(9));
        Assert.Equal(4, lifetimes.Count);
        Assert.Null(lifetimes.Typical("/bin/p1"));
        Assert.Equal(Ms(1), lifetimes.Typical("/bin/p0"));
        Assert.Equal(Ms(3), lifetimes.Typical("/bin/p2"));
        Assert.Equal(Ms(9), lifetimes.Typical("/bin/new"));
        lifetimes.Record("/bin/newer", Ms(9));
        Assert.Null(lifetimes.Typical("/bin/p2"));
    }

    [Fact]
    public void Asking_for_a_typical_lifetime_does_not_count_as_a_use()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 1, programsKept: 2);
        lifetimes.Record("/bin/a", Ms(1));
        lifetimes.Record("/bin/b", Ms(1));
        Assert.NotNull(lifetimes.Typical("/bin/a"));
        lifetimes.Record("/bin/c", Ms(1));
        Assert.Null(lifetimes.Typical("/bin/a"));
    }

    [Fact]
    public void A_negative_lifetime_counts_as_zero()
    {
        var lifetimes = new ProgramLifetimes(knownAfter: 1);
        lifetimes.Record("p", Ms(-5));
        Assert.Equal(TimeSpan.Zero, lifetimes.Typical("p"));
    }
}
