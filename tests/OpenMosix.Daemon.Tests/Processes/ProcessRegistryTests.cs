using OpenMosix.Admin;
using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>The registry of managed processes, with real processes of the test (no root, no lab).</summary>
public sealed class ProcessRegistryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_registered_process_is_listed_at_home_with_its_command_line()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["31"]);
        // Until its exec is through, the kernel shows no command line for it.
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/cmdline").Contains("31", StringComparison.Ordinal), Patience, "sleep to run");
        var registry = new ProcessRegistry(3);
        var process = registry.Register(child.Pid, 1000);

        var row = registry.List().Processes.Single();
        Assert.Equal((child.Pid, 1000, 3, 3, "home", "/bin/sleep 31"), (row.Pid, row.Uid, row.Home, row.Where, row.State, row.Command));
        Assert.Same(process, registry.Find(child.Pid));
        Assert.Equal([process], registry.RunningAtHome());
    }

    [Fact]
    public void A_process_away_is_not_running_at_home_and_cannot_be_registered_again()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["32"]);
        var registry = new ProcessRegistry(1);
        var process = registry.Register(child.Pid, 0);
        registry.Update(process, p => (p.State, p.Where) = (ProcessState.Remote, 2));

        Assert.Empty(registry.RunningAtHome());
        Assert.Equal([process], registry.Away());
        var refused = Assert.Throws<InvalidOperationException>(() => registry.Register(child.Pid, 0));
        Assert.Equal($"process {child.Pid} is already managed and remote", refused.Message);
    }

    [Fact]
    public void A_process_that_ended_at_home_is_dropped_but_one_away_is_kept()
    {
        using var ended = ChildProcess.Start("/bin/true", []);
        using var away = ChildProcess.Start("/bin/true", []);
        var registry = new ProcessRegistry(1);
        registry.Register(ended.Pid, 0);
        // A deputy stands for a process away; while it is away its pid at home is not the process's life.
        registry.Update(registry.Register(away.Pid, 0), p => p.State = ProcessState.Remote);
        ended.WaitForExit(Patience);
        away.WaitForExit(Patience);

        Assert.Null(registry.Find(ended.Pid));
        Assert.NotNull(registry.Find(away.Pid));
    }

    [Fact]
    public void Guests_are_kept_apart_from_the_nodes_own_processes_and_leave_when_removed()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["33"]);
        var registry = new ProcessRegistry(2);
        var guest = registry.AddGuest(child.Pid, 1000, home: 1, "sleep 33", homePid: 4242);

        Assert.Empty(registry.RunningAtHome());
        Assert.Equal([guest], registry.Guests());
        var row = registry.List().Processes.Single();
        Assert.Equal(("guest", 1, 2, 4242), (row.State, row.Home, row.Where, row.RemotePid));
        registry.RemoveGuest(child.Pid);
        Assert.Empty(registry.Guests());
        Assert.Null(registry.Find(child.Pid));
    }

    [Fact]
    public void Only_om_runs_registration_waits_for_an_exec()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["34"]);
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/cmdline").Contains("34", StringComparison.Ordinal), Patience, "sleep to run");
        var registry = new ProcessRegistry(1);
        Assert.Null(registry.Register(child.Pid, 0).Startup);
        registry.Forget(child.Pid);
        Assert.Equal(new FileInfo($"/proc/{child.Pid}/exe").LinkTarget, registry.Register(child.Pid, 0, execsNext: true).Startup?.Executable);
    }

    [Fact]
    public void An_entry_whose_pid_now_names_another_process_is_forgotten_and_lends_that_process_nothing()
    {
        // Past pid_max: no real process answers under these PIDs, only the start times given here.
        const int Pid = 5_000_001, Child = 5_000_002;
        var started = new Dictionary<int, ulong> { [Pid] = 100 };
        var registry = new ProcessRegistry(1, pid => started.TryGetValue(pid, out var t) ? t : null);
        var old = registry.Register(Pid, 1000);
        registry.Update(old, p => (p.Locked, p.Decay) = (true, DecayMode.Slow));
        Assert.Same(old, registry.FindHome(Pid));

        started[Pid] = 250;
        started[Child] = 260;

        Assert.Null(registry.RegisterChild(Child, Pid));
        Assert.Null(registry.Find(Pid));
        Assert.Null(registry.FindHome(Pid));
        Assert.Empty(registry.List().Processes);
        var fresh = registry.Register(Pid, 2000);
        Assert.Equal((2000u, false, (DecayMode?)null), (fresh.Uid, fresh.Locked, fresh.Decay));
    }

    [Fact]
    public void An_ended_entry_a_lookup_dropped_is_still_there_for_its_exit_event_and_a_new_process_under_its_pid_is_not()
    {
        const int Pid = 5_000_011;
        var started = new Dictionary<int, ulong> { [Pid] = 100 };
        var registry = new ProcessRegistry(1, pid => started.TryGetValue(pid, out var t) ? t : null);
        var old = registry.Register(Pid, 1000);
        registry.Update(old, p => p.Program = "/usr/bin/make");

        started.Remove(Pid);
        Assert.Null(registry.FindHome(Pid));
        started[Pid] = 300;
        var fresh = registry.Register(Pid, 2000);

        Assert.Same(old, registry.FindExited(Pid));
        registry.ForgetEnded(old);
        Assert.Same(fresh, registry.FindHome(Pid));
        Assert.Same(fresh, registry.FindExited(Pid));
        registry.ForgetEnded(fresh);
        Assert.Null(registry.FindExited(Pid));
    }

    [Fact]
    public void A_guest_whose_pid_now_names_another_process_is_no_longer_a_guest()
    {
        const int Pid = 5_000_003;
        var started = new Dictionary<int, ulong> { [Pid] = 100 };
        var registry = new ProcessRegistry(2, pid => started.TryGetValue(pid, out var t) ? t : null);
        registry.AddGuest(Pid, 1000, home: 1, "sleep 1", homePid: 77);

        started[Pid] = 101;

        Assert.Empty(registry.Guests());
        Assert.Null(registry.Find(Pid));
    }

    [Fact]
    public void A_pid_the_kernel_hands_out_again_does_not_inherit_the_ended_processs_owner_or_lock()
    {
        var registry = new ProcessRegistry(1);
        int pid;
        ulong started;
        using (var ended = ChildProcess.Start("/bin/sleep", ["35"]))
        {
            pid = ended.Pid;
            started = ProcFs.ReadStat(pid).StartTime;
            registry.Update(registry.Register(pid, 1000), p => p.Locked = true);
            ended.Kill();
            ended.WaitForExit(Patience);
        }
        PidRecycling.WaitPastTick(started, Patience);

        using var recycled = PidRecycling.StartAs(pid, "/bin/sleep", ["36"]);

        Assert.Null(registry.Find(pid));
        Assert.Null(registry.FindHome(pid));
        Assert.Null(registry.RegisterChild(pid + 1, pid));
    }
}
