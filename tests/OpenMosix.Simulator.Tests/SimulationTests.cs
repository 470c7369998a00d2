using OpenMosix.Simulator.Engine;
using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Tests;

public sealed class SimulationTests
{
    private static SimulationReport Run(string jobs, int nodes = 4, string speeds = "10000", PlacementPolicy policy = PlacementPolicy.OpenMosix,
        int seed = 1, int failures = 0) =>
        new Simulation(new SimulationOptions
        {
            Nodes = nodes,
            Jobs = JobSpec.Parse(jobs),
            Speeds = SpeedSpec.Parse(speeds),
            Policy = policy,
            Seed = seed,
            Failures = failures,
        }).Run();

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_another()
    {
        var first = Run("2000,len=exp:40,on=first:5", nodes: 50, speeds: "uniform:5000-20000", seed: 7);
        var again = Run("2000,len=exp:40,on=first:5", nodes: 50, speeds: "uniform:5000-20000", seed: 7);
        var other = Run("2000,len=exp:40,on=first:5", nodes: 50, speeds: "uniform:5000-20000", seed: 8);
        Assert.Equal(first with { WallSeconds = 0 }, again with { WallSeconds = 0 });
        Assert.NotEqual(first.Makespan, other.Makespan);
    }

    [Fact]
    public void Sixteen_jobs_started_on_one_of_four_nodes_finish_close_to_the_ideal_and_far_before_staying_put()
    {
        var balanced = Run("16,len=120,mem=64,on=1");
        var stayed = Run("16,len=120,mem=64,on=1", policy: PlacementPolicy.None);
        Assert.Equal(480, balanced.Ideal, 6);
        Assert.InRange(balanced.MakespanOverIdeal, 1.0, 1.05);
        Assert.Equal(4.0, stayed.MakespanOverIdeal, 3);
        Assert.True(balanced.MigrationsPerJob <= 1, $"{balanced.MigrationsPerJob} migrations per job");
    }

    [Fact]
    public void Faster_nodes_take_more_so_heterogeneous_work_still_ends_near_the_ideal()
    {
        var report = Run("40,len=100,mem=32,on=1", speeds: "2500,5000,5000,7500");
        Assert.InRange(report.MakespanOverIdeal, 1.0, 1.1);
        Assert.True(report.MigrationsPerJob <= 2);
    }

    [Fact]
    public void At_high_load_on_a_thousand_nodes_the_balancer_stays_within_five_percent_of_the_ideal()
    {
        var policies = Enum.GetValues<PlacementPolicy>().ToDictionary(p => p, p =>
            Run("10000,len=uniform:30-90,mem=uniform:16-256,on=first:100", nodes: 1000, speeds: "uniform:5000-20000", policy: p));
        var balanced = policies[PlacementPolicy.OpenMosix];
        Assert.InRange(balanced.MakespanOverIdeal, 1.0, 1.06);
        Assert.True(balanced.MigrationsPerJob <= 2, $"{balanced.MigrationsPerJob} migrations per job");
        Assert.All(policies.Where(p => p.Key != PlacementPolicy.OpenMosix), p => Assert.True(p.Value.Makespan > balanced.Makespan, $"{p.Key} beat the balancer"));
    }

    [Fact]
    public void Every_job_either_finishes_or_is_lost_and_failures_lose_only_what_ran_on_or_came_from_a_dead_node()
    {
        var healthy = Run("3000,len=exp:30,mem=64", nodes: 100);
        var failing = Run("3000,len=exp:30,mem=64", nodes: 100, failures: 5);
        Assert.Equal(0, healthy.JobsLost);
        Assert.InRange(failing.JobsLost, 1, 3000 * 10 / 100);
        Assert.True(failing.Makespan > 0);
    }

    [Fact]
    public void Round_robin_and_random_place_once_and_never_migrate()
    {
        Assert.Equal(0, Run("200,on=1", policy: PlacementPolicy.RoundRobin).Migrations);
        Assert.Equal(0, Run("200,on=1", policy: PlacementPolicy.Random).Migrations);
    }
}
