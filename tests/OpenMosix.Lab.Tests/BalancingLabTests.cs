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
            // Most start elsewhere at once (node 1 has no CPU free for them), the balancer evens out the rest.
            lab.WaitForDaemonLog(1, "starts on node");
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }
    }

    [Fact]
    public void A_blocked_node_refuses_processes_and_its_peers_see_it_blocked_until_noblock()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var job = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]);
        Poll.Until(() => Processes(lab, 1).Any(p => p.Pid == job.Pid), TimeSpan.FromSeconds(20), "the job to be registered");
        Assert.Equal("switches: block\n", lab.Exec(2, Om.Path, "mosctl", "block").Succeeded().Stdout);
        Poll.Until(() => Node(lab, 1, 2).Flags.Contains("blocked"), TimeSpan.FromSeconds(10), "node 1 to see node 2 blocked");

        var refused = lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("node 2 refused", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("blocked", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, Processes(lab, 1).Single(p => p.Pid == job.Pid).Where);

        lab.Exec(2, Om.Path, "mosctl", "noblock").Succeeded();
        lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2").Succeeded();
        Assert.Equal(2, Processes(lab, 1).Single(p => p.Pid == job.Pid).Where);
    }

    [Fact]
    public void Stay_keeps_jobs_home_until_nostay_lets_the_balancer_move_them()
    {
        using var lab = TestLab.WithDaemons(2, "--cpus", "0.5,0.5", "--timeout", "15");
        lab.Exec(1, Om.Path, "mosctl", "stay").Succeeded();
        var jobs = Enumerable.Range(0, 4)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        try
        {
            Poll.Until(() => Processes(lab, 1).Count(p => p.Command.Contains("spinner", StringComparison.Ordinal)) == 4, TimeSpan.FromSeconds(20), "the jobs to be registered");
            // Long enough for the balancer to have moved some (it does within seconds without stay: see above).
            Thread.Sleep(TimeSpan.FromSeconds(8));
            Assert.All(Processes(lab, 1).Where(p => p.Command.Contains("spinner", StringComparison.Ordinal)), p => Assert.Equal(1, p.Where));
            Assert.DoesNotContain("balancer: moving process", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);

            lab.Exec(1, Om.Path, "mosctl", "nostay").Succeeded();
            Poll.Until(() => Processes(lab, 1).Count(p => p.Where == 2) == 2, TimeSpan.FromSeconds(60), "two jobs on node 2 after nostay");
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }
    }

    [Fact]
    public void Bring_calls_every_process_home_and_keeps_them_there()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        var jobs = Enumerable.Range(0, 2)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        try
        {
            Poll.Until(() => Processes(lab, 1).Count(p => p.Command.Contains("spinner", StringComparison.Ordinal)) == 2, TimeSpan.FromSeconds(20), "the jobs to be registered");
            foreach (var job in jobs) lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2").Succeeded();
            Assert.All(jobs, job => Assert.Equal(2, Processes(lab, 1).Single(p => p.Pid == job.Pid).Where));

            Assert.Equal("brought 2 processes home; switches: lstay\n", lab.Exec(1, Om.Path, "mosctl", "bring").Succeeded().Stdout);
            Assert.All(jobs, job => Assert.Equal(1, Processes(lab, 1).Single(p => p.Pid == job.Pid).Where));
            Assert.All(jobs, job => Assert.True(Signals.Exists(job.Pid)));
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }
    }

    [Fact]
    public void Expel_sends_every_guest_home_and_blocks_the_node()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        var jobs = Enumerable.Range(0, 2)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        try
        {
            Poll.Until(() => Processes(lab, 1).Count(p => p.Command.Contains("spinner", StringComparison.Ordinal)) == 2, TimeSpan.FromSeconds(20), "the jobs to be registered");
            foreach (var job in jobs) lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2").Succeeded();
            Assert.Equal(2, Processes(lab, 2).Count(p => p.State == "guest"));

            Assert.Equal("sent 2 guests home; switches: block\n", lab.Exec(2, Om.Path, "mosctl", "expel").Succeeded().Stdout);
            Assert.All(jobs, job => Assert.Equal(1, Processes(lab, 1).Single(p => p.Pid == job.Pid).Where));
            Assert.DoesNotContain(Processes(lab, 2), p => p.State == "guest");
            Assert.All(jobs, job => Assert.True(Signals.Exists(job.Pid)));
            var refused = lab.Exec(1, Om.Path, "migrate", $"{jobs[0].Pid}", "2");
            Assert.Contains("blocked", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }
    }

    [Fact]
    public void A_guest_whose_home_has_no_room_for_it_is_not_brought_home_and_runs_on_where_it_is()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--mem", "1G");
        using var guest = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("memticker"), "300", "600", "100"]);
        Poll.Until(() => Processes(lab, 1).Any(p => p.Pid == guest.Pid), TimeSpan.FromSeconds(20), "the job to be registered");
        lab.Exec(1, Om.Path, "migrate", $"{guest.Pid}", "2", "--no-precopy").Succeeded();
        // Home fills up while it is away: 650 MiB more leaves less than its 300 MiB and the 10% kept free.
        using var hog = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", TestPrograms.Locate("memticker"), "650", "600", "100"]);
        Poll.Until(() => File.ReadAllText(Path.Combine(lab.Layout.MemoryCgroup(1), "memory.usage_in_bytes")) is var used
                         && long.Parse(used.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 650L << 20,
            TimeSpan.FromSeconds(30), "node 1 to fill up");

        var expel = lab.Exec(2, Om.Path, "mosctl", "expel");
        Assert.Equal(1, expel.ExitCode);
        Assert.Contains($"om: not expelled: ", expel.Stderr, StringComparison.Ordinal);
        Assert.Contains("home (node 1) has no room for its 3", expel.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, Processes(lab, 1).Single(p => p.Pid == guest.Pid).Where);
        Assert.Single(Processes(lab, 2), p => p.State == "guest");
        Assert.True(Signals.Exists(guest.Pid));
    }

    [Fact]
    public void A_busy_node_asks_the_home_of_its_guests_to_move_them_on_to_an_idle_node()
    {
        using var lab = TestLab.WithDaemons(3, "--cpus", "0.5,0.5,0.5", "--timeout", "15");
        // Node 1 keeps its processes where they are sent (lstay) and takes none back (block): only node 2 decides.
        lab.Exec(1, Om.Path, "mosctl", "lstay").Succeeded();
        lab.Exec(1, Om.Path, "mosctl", "block").Succeeded();
        lab.Exec(2, Om.Path, "mosctl", "lstay").Succeeded();
        var guests = Enumerable.Range(0, 2)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        var locals = Enumerable.Range(0, 2)
            .Select(_ => ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, "2", "--", Om.Path, "run", TestPrograms.Locate("spinner"), "120"]))
            .ToList();
        try
        {
            Poll.Until(() => Processes(lab, 1).Count(p => p.Command.Contains("spinner", StringComparison.Ordinal)) == 2, TimeSpan.FromSeconds(20), "node 1's jobs to be registered");
            foreach (var job in guests) lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2").Succeeded();

            Poll.Until(() => Processes(lab, 1).Count(p => p.Where == 3) >= 1, TimeSpan.FromSeconds(60), "a guest of node 2 to be moved on to node 3");
            lab.WaitForDaemonLog(2, "balancer: asking home to move guest");
            lab.WaitForDaemonLog(1, "node 2 asks to move it to node 3");
            Assert.All(Processes(lab, 2).Where(p => p.Home == 2), p => Assert.Equal(2, p.Where));
            Assert.All(guests.Concat(locals), job => Assert.True(Signals.Exists(job.Pid)));
        }
        finally
        {
            foreach (var job in guests.Concat(locals)) job.Dispose();
        }
    }

    private static IReadOnlyList<ProcessRow> Processes(TestLab lab, int node) =>
        JsonSerializer.Deserialize(lab.Exec(node, Om.Path, "ps", "--json").Succeeded().Stdout, AdminJsonContext.Default.ProcessList)!.Processes;

    private static NodeRow Node(TestLab lab, int from, int id) =>
        JsonSerializer.Deserialize(lab.Exec(from, Om.Path, "status", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!
            .Nodes.Single(n => n.Id == id);
}
