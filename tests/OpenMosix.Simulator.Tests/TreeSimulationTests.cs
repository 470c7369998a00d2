using OpenMosix.Simulator.Engine;
using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Tests;

public sealed class TreeSimulationTests
{
    private static SimulationReport Run(string tree, int nodes = 16, string speeds = "10000", PlacementPolicy policy = PlacementPolicy.OpenMosix,
        int seed = 1, bool placeAtExec = true, double smallMoveSeconds = 0.04) =>
        new Simulation(new SimulationOptions
        {
            Nodes = nodes,
            Trees = TreeSpec.Parse(tree),
            Speeds = SpeedSpec.Parse(speeds),
            Policy = policy,
            Seed = seed,
            PlaceAtExec = placeAtExec,
            SmallMoveSeconds = smallMoveSeconds,
        }).Run();

    [Fact]
    public void A_fork_and_forget_burst_on_one_crowded_node_is_placed_across_the_cluster_and_ends_near_the_ideal()
    {
        var placed = Run("fork:64,len=60,mem=64");
        var stayed = Run("fork:64,len=60,mem=64", policy: PlacementPolicy.None);
        Assert.Equal(240, placed.Ideal, 6);
        // Probation (80 ms), then 63 placements two at a time at 40 ms each: about 1.4 s on a 240 s run.
        Assert.InRange(placed.MakespanOverIdeal, 1.0, 1.02);
        // All but the four or so the parent's node keeps for itself once it is no busier than the rest.
        Assert.InRange(placed.Placements, 56, 63);
        Assert.True(placed.MigrationsPerJob <= 0.1, $"{placed.MigrationsPerJob} balancer moves per job after placement");
        Assert.Equal(16.0, stayed.MakespanOverIdeal, 3);
    }

    [Fact]
    public void Placing_children_at_exec_beats_leaving_them_to_the_balancer()
    {
        var placed = Run("make:400,j=16,len=uniform:0.2-3,parents=4", speeds: "uniform:5000-20000");
        var balancerOnly = Run("make:400,j=16,len=uniform:0.2-3,parents=4", speeds: "uniform:5000-20000", placeAtExec: false);
        Assert.Equal(0, balancerOnly.Placements);
        Assert.InRange(placed.MakespanOverIdeal, 1.0, 1.25);
        Assert.True(placed.Makespan < balancerOnly.Makespan * 0.8, $"placed {placed.Makespan} s, balancer alone {balancerOnly.Makespan} s");
    }

    [Fact]
    public void Jobs_too_short_to_repay_a_move_are_not_moved()
    {
        // 10 ms compile jobs, four at a time on one node: the first end before their probation, and from then on the
        // program is known to be too short.
        var shortJobs = Run("make:1000,j=4,len=0.01,link=0.01", nodes: 4);
        Assert.Equal(0, shortJobs.Placements);
        Assert.Equal(0, shortJobs.Migrations);
        var longJobs = Run("make:100,j=4,len=1,link=0.01", nodes: 4);
        // Three of the four running at a time leave the driver's node; it keeps one for its own CPU.
        Assert.True(longJobs.Placements >= 70, $"{longJobs.Placements} of 100 one-second jobs placed");
    }

    [Fact]
    public void Short_jobs_are_placed_only_while_their_program_is_unknown()
    {
        // Sixteen at a time on one CPU, each outlives the probation before the program has ended three times.
        var report = Run("make:1000,j=16,len=0.01,link=0.01", nodes: 16);
        Assert.InRange(report.Placements, 1, 16);
    }

    [Fact]
    public void A_serial_make_takes_its_critical_path_and_that_is_its_ideal()
    {
        var report = Run("make:10,j=1,len=2,link=5", nodes: 100);
        Assert.Equal(25, report.Ideal, 6);
        Assert.Equal(25, report.Makespan, 6);
        Assert.Equal(0, report.Placements);
    }

    [Fact]
    public void A_tree_run_is_the_same_for_the_same_seed()
    {
        var first = Run("make:500,j=32,parents=8", nodes: 64, speeds: "uniform:5000-20000", seed: 3);
        var again = Run("make:500,j=32,parents=8", nodes: 64, speeds: "uniform:5000-20000", seed: 3);
        Assert.Equal(first with { WallSeconds = 0 }, again with { WallSeconds = 0 });
    }

    [Fact]
    public void A_node_sends_its_placements_two_at_a_time_so_a_costlier_move_drains_a_burst_slower()
    {
        var cheap = Run("fork:200,len=20,mem=16", nodes: 100, smallMoveSeconds: 0.01);
        var costly = Run("fork:200,len=20,mem=16", nodes: 100, smallMoveSeconds: 0.5);
        Assert.True(costly.Makespan > cheap.Makespan + 10, $"cheap {cheap.Makespan} s, costly {costly.Makespan} s");
    }

    [Fact]
    public void Every_child_ends_and_children_of_a_dead_parent_node_are_lost_not_forked()
    {
        var report = new Simulation(new SimulationOptions
        {
            Nodes = 50,
            Trees = TreeSpec.Parse("make:200,j=8,parents=10"),
            Failures = 10,
            Seed = 5,
        }).Run();
        Assert.InRange(report.JobsLost, 1, report.Jobs);
        Assert.True(report.Makespan > 0);
    }
}
