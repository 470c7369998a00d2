using OpenMosix.Simulator.Engine;
using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Tests;

public sealed class TreeWorkloadTests
{
    [Fact]
    public void A_make_driver_keeps_at_most_j_jobs_running_and_its_link_starts_only_after_every_compile_job()
    {
        var workload = new TreeWorkload(TreeSpec.Parse("make:50,j=4,parents=2"), 2, new Random(1));
        var random = new Random(2);
        var running = workload.Initial().ToList();
        Assert.Equal(8, running.Count);
        Assert.All(running, j => Assert.Equal(0, j.Arrival));
        var ended = new List<SimJob>();
        var now = 0.0;
        while (running.Count > 0)
        {
            var done = running[random.Next(running.Count)];
            running.Remove(done);
            ended.Add(done);
            now += 1;
            var born = workload.After(done, now).ToList();
            Assert.All(born, j => Assert.Equal(now, j.Arrival));
            running.AddRange(born);
            foreach (var tree in new[] { 0, 1 }) Assert.True(running.Count(j => j.Tree == tree) <= 4);
            foreach (var link in born.Where(j => j.Program == TreeSpec.LinkProgram))
                Assert.Equal(50, ended.Count(j => j.Tree == link.Tree && j.Program == "cc"));
        }
        Assert.Equal(workload.Jobs.Length, ended.Count);
        Assert.Equal(2, ended.Count(j => j.Program == TreeSpec.LinkProgram));
    }

    [Fact]
    public void A_fork_and_forget_parent_forks_all_its_children_at_once_on_its_own_node()
    {
        var workload = new TreeWorkload(TreeSpec.Parse("fork:10,parents=3"), 5, new Random(1));
        var born = workload.Initial().ToList();
        Assert.Equal(30, born.Count);
        Assert.Equal([1, 2, 3], born.Select(j => j.Home).Distinct().Order());
        Assert.Empty(born.SelectMany(j => workload.After(j, 1)));
    }

    [Fact]
    public void More_parents_than_nodes_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new TreeWorkload(TreeSpec.Parse("fork:10,parents=6"), 5, new Random(1)));
        Assert.Contains("6 parents need as many nodes", e.Message, StringComparison.Ordinal);
    }
}
