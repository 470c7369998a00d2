using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Tests;

public sealed class SpecTests
{
    [Fact]
    public void A_job_spec_reads_count_lengths_memory_arrivals_and_origin()
    {
        var spec = JobSpec.Parse("500,len=exp:60,mem=uniform:16-512,at=poisson:20,on=first:8");
        Assert.Equal(500, spec.Count);
        Assert.Equal(new Distribution("exp", 60), spec.Length);
        Assert.Equal(new Distribution("uniform", 16, 512), spec.MemoryMiB);
        Assert.Equal(20, spec.ArrivalRate);
        Assert.Equal(("first", 8), (spec.Origin, spec.OriginValue));
    }

    [Theory]
    [InlineData("0", "not a positive job count")]
    [InlineData("10,len", "is not key=value")]
    [InlineData("10,len=uniform:9-3", "bounds reversed")]
    [InlineData("10,len=gauss:3", "unknown distribution 'gauss'")]
    [InlineData("10,color=red", "unknown or malformed 'color=red'")]
    [InlineData("10,on=0", "not a node number")]
    public void A_malformed_job_spec_is_refused_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => JobSpec.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Speeds_are_one_for_all_a_cycle_or_a_distribution()
    {
        var random = new Random(1);
        var cycle = SpeedSpec.Parse("5000,10000");
        Assert.Equal([5000.0, 10000, 5000], Enumerable.Range(0, 3).Select(i => cycle.For(i, random)));
        var drawn = SpeedSpec.Parse("uniform:5000-20000");
        Assert.All(Enumerable.Range(0, 50), i => Assert.InRange(drawn.For(i, random), 5000, 20000));
        Assert.Throws<FormatException>(() => SpeedSpec.Parse("fast"));
        Assert.Throws<FormatException>(() => SpeedSpec.Parse("-5"));
    }

    [Fact]
    public void A_tree_spec_reads_fork_and_make_with_their_defaults()
    {
        var fork = TreeSpec.Parse("fork:100,parents=10,len=exp:60");
        Assert.Equal((TreeKind.Fork, 100, 100, 10), (fork.Kind, fork.Children, fork.Parallel, fork.Parents));
        Assert.Equal(new Distribution("exp", 60), fork.Length);
        Assert.Null(fork.Link);
        Assert.Equal(1000, fork.Processes);
        var make = TreeSpec.Parse("make:500,j=8,link=uniform:3-6");
        Assert.Equal((TreeKind.Make, 500, 8, 1), (make.Kind, make.Children, make.Parallel, make.Parents));
        Assert.Equal(new Distribution("uniform", 0.2, 3), make.Length);
        Assert.Equal(new Distribution("uniform", 3, 6), make.Link);
        Assert.Equal(501, make.Processes);
        Assert.Equal(16, TreeSpec.Parse("make:5").Parallel);
    }

    [Theory]
    [InlineData("spawn:3", "is not fork:K or make:M")]
    [InlineData("fork", "not a positive number of children")]
    [InlineData("make:0", "not a positive number of compile jobs")]
    [InlineData("fork:10,j=4", "unknown or malformed 'j=4' for fork")]
    [InlineData("make:10,parents=x", "'x' is not a positive number of parents")]
    [InlineData("make:10,link", "is not key=value")]
    public void A_malformed_tree_spec_is_refused_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => TreeSpec.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
