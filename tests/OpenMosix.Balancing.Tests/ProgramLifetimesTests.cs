using OpenMosix.Balancing.Demand;

namespace OpenMosix.Balancing.Tests;

public sealed class ProgramLifetimesTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    private static ProgramLifetimes With(string program, params double[] runsMs)
    {
        var lifetimes = new ProgramLifetimes();
        foreach (var run in runsMs) lifetimes.Record(program, Ms(run));
        return lifetimes;
    }

    [Fact]
    public void A_program_never_seen_to_end_has_no_typical_lifetime()
    {
        Assert.Null(With("/bin/cc1", 5).Typical("/usr/bin/ld"));
        Assert.Equal(0, new ProgramLifetimes().Count);
    }

    [Fact]
    public void The_typical_lifetime_of_an_odd_number_of_runs_is_the_middle_one()
    {
        Assert.Equal(Ms(40), With("p", 900, 10, 40).Typical("p"));
        Assert.Equal(Ms(7), With("p", 7).Typical("p"));
    }

    [Fact]
    public void The_typical_lifetime_of_an_even_number_of_runs_is_the_mean_of_the_middle_two()
    {
        Assert.Equal(Ms(25), With("p", 100, 10, 40, 1).Typical("p"));
        Assert.Equal(Ms(15), With("p", 20, 10).Typical("p"));
    }

    [Fact]
    public void One_odd_run_does_not_swing_the_typical_lifetime()
    {
        Assert.Equal(Ms(10), With("p", 10, 10, 10, 10, 3_600_000).Typical("p"));
    }

    [Fact]
    public void Only_the_last_fifteen_runs_count()
    {
        // Runs of 1 to 30 ms: of all thirty the median would be 15.5 ms, of the last fifteen (16 to 30) it is 23.
        var lifetimes = With("p", [.. Enumerable.Range(1, 30).Select(i => (double)i)]);
        Assert.Equal(Ms(23), lifetimes.Typical("p"));
        // Eight short runs of the last fifteen make the median short, seven do not.
        var mixed = With("p", [.. Enumerable.Repeat(5.0, 20), .. Enumerable.Repeat(60_000.0, 7)]);
        Assert.Equal(Ms(5), mixed.Typical("p"));
        mixed.Record("p", Ms(60_000));
        Assert.Equal(Ms(60_000), mixed.Typical("p"));
    }

    [Fact]
    public void A_negative_lifetime_is_not_recorded()
    {
        var lifetimes = With("p", -5);
        Assert.Null(lifetimes.Typical("p"));
        Assert.Equal(0, lifetimes.Count);
        Assert.Equal(TimeSpan.Zero, With("p", 0).Typical("p"));
    }

    [Fact]
    public void Programs_are_told_apart_by_their_exact_path()
    {
        var lifetimes = With("/usr/bin/cc", 1000);
        lifetimes.Record("/usr/bin/CC", Ms(3));
        Assert.Equal((Ms(1000), Ms(3), 2), (lifetimes.Typical("/usr/bin/cc"), lifetimes.Typical("/usr/bin/CC"), lifetimes.Count));
    }

    [Fact]
    public void The_program_unused_longest_is_forgotten_when_a_new_one_comes_past_1024()
    {
        var lifetimes = new ProgramLifetimes();
        for (var i = 0; i < ProgramLifetimes.ProgramsKept; i++) lifetimes.Record($"/bin/p{i}", Ms(i + 1));
        // p0 ran again lately, so p1 is now the one unused longest.
        lifetimes.Record("/bin/p0", Ms(1));
        lifetimes.Record("/bin/new", Ms(9));

        Assert.Equal(ProgramLifetimes.ProgramsKept, lifetimes.Count);
        Assert.Null(lifetimes.Typical("/bin/p1"));
        Assert.Equal(Ms(1), lifetimes.Typical("/bin/p0"));
        Assert.Equal(Ms(3), lifetimes.Typical("/bin/p2"));
        Assert.Equal(Ms(9), lifetimes.Typical("/bin/new"));
        lifetimes.Record("/bin/newer", Ms(9));
        Assert.Null(lifetimes.Typical("/bin/p2"));
        Assert.Equal(ProgramLifetimes.ProgramsKept, lifetimes.Count);
    }

    [Fact]
    public void Asking_for_a_typical_lifetime_does_not_count_as_a_use()
    {
        var lifetimes = new ProgramLifetimes();
        for (var i = 0; i < ProgramLifetimes.ProgramsKept; i++) lifetimes.Record($"/bin/p{i}", Ms(1));
        Assert.NotNull(lifetimes.Typical("/bin/p0"));
        lifetimes.Record("/bin/new", Ms(1));
        Assert.Null(lifetimes.Typical("/bin/p0"));
    }
}
