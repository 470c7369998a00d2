using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>omd balancing on its own, in a lab of four nodes of half a CPU each (two cores in all).</summary>
public sealed class BalancingLabTests
{
    [Fact]
    public void Cpu_bound_jobs_started_on_one_node_spread_over_all_nodes_by_themselves()
    {
        using var lab = TestLab.WithDaemons(4, "--cpus", "0.5,0.5,0.5,0.5", "--timeout", "15");
        var jobs = Enumerable.Range(0, 8)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        try
        {
            Dictionary<int, int> Spread()
            {
                var list = JsonSerializer.Deserialize(lab.Exec(1, Om.Path, "ps", "--json").Succeeded().Stdout, AdminJsonContext.Default.ProcessList)!;
                return list.Processes.Where(p => p.Command.Contains("spinner", StringComparison.Ordinal))
                    .GroupBy(p => p.Where).ToDictionary(g => g.Key, g => g.Count());
            }
            Poll.Until(() => Spread().Values.Sum() == 8, TimeSpan.FromSeconds(20), "the eight jobs to be registered");
            Poll.Until(() => Spread() is var s && s.Count == 4 && s.Values.All(n => n == 2), TimeSpan.FromSeconds(60),
                "two jobs on each of the four nodes");
            Assert.Contains("balancer: moving process", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }
    }
}
