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
        using var jobs = Jobs.Start(lab, 1, 8, "spinner", "120");
        Poll.Until(() => jobs.Where().CountBy(node => node).ToList() is var spread && spread.Count == 4 && spread.All(n => n.Value == 2),
            TimeSpan.FromSeconds(60), "two jobs on each of the four nodes");
        // Most start elsewhere at once (node 1 has no CPU free for them), the balancer evens out the rest.
        lab.WaitForDaemonLog(1, "starts on node");
    }

    [Fact]
    public void A_blocked_node_refuses_processes_and_its_peers_see_it_blocked_until_noblock()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var jobs = Jobs.Start(lab, 1, 1, "spinner", "120");
        var job = jobs.All[0];
        Assert.Equal("switches: block\n", lab.Exec(2, Om.Path, "mosctl", "block").Succeeded().Stdout);
        Poll.Until(() => NodeProbe.View(lab, 1).Nodes.Single(n => n.Id == 2).Flags.Contains("blocked"), TimeSpan.FromSeconds(10), "node 1 to see node 2 blocked");

        var refused = lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("node 2 refused", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("blocked", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, lab.Processes(1).Processes.Single(p => p.Pid == job.Pid).Where);

        lab.Exec(2, Om.Path, "mosctl", "noblock").Succeeded();
        lab.Exec(1, Om.Path, "migrate", $"{job.Pid}", "2").Succeeded();
        Assert.Equal(2, lab.Processes(1).Processes.Single(p => p.Pid == job.Pid).Where);
    }

    [Fact]
    public void Stay_keeps_jobs_home_until_nostay_lets_the_balancer_move_them()
    {
        using var lab = TestLab.WithDaemons(2, "--cpus", "0.5,0.5", "--timeout", "15");
        lab.Exec(1, Om.Path, "mosctl", "stay").Succeeded();
        using var jobs = Jobs.Start(lab, 1, 4, "spinner", "120");
        // Long enough for the balancer to have moved some (it does within seconds without stay: see above). Only a
        // bug can make this fail; under load the wait may be too short to catch one, never too long.
        Thread.Sleep(TimeSpan.FromSeconds(8));
        Assert.All(jobs.Where(), node => Assert.Equal(1, node));
        Assert.DoesNotContain("balancer: moving process", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);

        lab.Exec(1, Om.Path, "mosctl", "nostay").Succeeded();
        Poll.Until(() => jobs.Where().Count(node => node == 2) == 2, TimeSpan.FromSeconds(60), "two jobs on node 2 after nostay");
    }

    [Fact]
    public void Bring_calls_every_process_home_and_keeps_them_there()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var jobs = Jobs.Start(lab, 1, 2, "spinner", "120");
        foreach (var job in jobs.All) lab.Migrate(1, job.Pid, "2");
        Assert.Equal([2, 2], jobs.Where());

        Assert.Equal("brought 2 processes home; switches: lstay\n", lab.Exec(1, Om.Path, "mosctl", "bring").Succeeded().Stdout);
        Assert.Equal([1, 1], jobs.Where());
        Assert.All(jobs.All, job => Assert.False(job.HasExited));
    }

    [Fact]
    public void Expel_sends_every_guest_home_and_blocks_the_node()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var jobs = Jobs.Start(lab, 1, 2, "spinner", "120");
        foreach (var job in jobs.All) lab.Migrate(1, job.Pid, "2");
        Assert.Equal(2, lab.Processes(2).Processes.Count(p => p.State == "guest"));

        Assert.Equal("sent 2 guests home; switches: block\n", lab.Exec(2, Om.Path, "mosctl", "expel").Succeeded().Stdout);
        Assert.Equal([1, 1], jobs.Where());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
        Assert.All(jobs.All, job => Assert.False(job.HasExited));
        var refused = lab.Exec(1, Om.Path, "migrate", $"{jobs.All[0].Pid}", "2");
        Assert.Contains("blocked", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_whose_home_has_no_room_for_it_is_not_brought_home_and_runs_on_where_it_is()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--mem", "1G");
        using var jobs = Jobs.Start(lab, 1, 1, "memticker", "300", "600", "100");
        var guest = jobs.All[0];
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
        Assert.Equal(2, lab.Processes(1).Processes.Single(p => p.Pid == guest.Pid).Where);
        Assert.Single(lab.Processes(2).Processes, p => p.State == "guest");
        Assert.False(guest.HasExited);
    }

    [Fact]
    public void A_busy_node_asks_the_home_of_its_guests_to_move_them_on_to_an_idle_node()
    {
        using var lab = TestLab.WithDaemons(3, "--cpus", "0.5,0.5,0.5", "--timeout", "15");
        // Node 1 keeps its processes where they are sent (lstay) and takes none back (block): only node 2 decides.
        lab.Exec(1, Om.Path, "mosctl", "lstay").Succeeded();
        lab.Exec(1, Om.Path, "mosctl", "block").Succeeded();
        lab.Exec(2, Om.Path, "mosctl", "lstay").Succeeded();
        using var guests = Jobs.Start(lab, 1, 2, "spinner", "120");
        using var locals = Jobs.Start(lab, 2, 2, "spinner", "120");
        foreach (var job in guests.All) lab.Migrate(1, job.Pid, "2");

        Poll.Until(() => guests.Where().Contains(3), TimeSpan.FromSeconds(60), "a guest of node 2 to be moved on to node 3");
        lab.WaitForDaemonLog(2, "balancer: asking home to move guest");
        lab.WaitForDaemonLog(1, "node 2 asks to move it to node 3");
        Assert.Equal([2, 2], locals.Where());
        Assert.All(guests.All.Concat(locals.All), job => Assert.False(job.HasExited));
    }
}
