using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>Remote fork: what a guest's copy forks on its node is reported to its home, and home lists it.</summary>
public sealed class ForkedAwayTests
{
    private const int Guest = 5_100_001, Child = 5_100_002, Grandchild = 5_100_003, Local = 5_100_004, LocalChild = 5_100_005, DeputyAtHome = 4242;

    private readonly Dictionary<int, ulong> _started = new() { [Guest] = 10, [Child] = 11, [Grandchild] = 12, [Local] = 13, [LocalChild] = 14 };

    private ProcessRegistry NodeTwo()
    {
        var registry = new ProcessRegistry(2, pid => _started.TryGetValue(pid, out var t) ? t : null);
        registry.AddGuest(Guest, 1000, home: 1, "bash job.sh", homePid: DeputyAtHome);
        return registry;
    }

    [Fact]
    public void What_a_guests_copy_forks_here_at_any_depth_is_its_homes_and_nothing_else_is()
    {
        var registry = NodeTwo();
        registry.Register(Local, 1000);
        registry.RegisterForked(Child, Guest);
        registry.RegisterForked(Grandchild, Child);
        registry.RegisterForked(LocalChild, Local);

        Assert.Equal([Child, Grandchild], registry.ForkedBy(Guest).Select(p => p.Pid).Order());
        Assert.Empty(registry.ForkedBy(Local));
        Assert.Equal(0, registry.Find(LocalChild)!.ForkedByGuest);
    }

    [Fact]
    public void Home_hears_each_child_with_the_parent_it_knows_and_once_more_when_the_last_has_ended()
    {
        var registry = NodeTwo();
        var reports = new ForkReports(registry, Guest, _ => false);
        Assert.Null(reports.Due());
        registry.RegisterForked(Child, Guest);
        registry.RegisterForked(Grandchild, Child);

        var report = reports.Due()!;

        // The copy's own child is the deputy's at home; a grandchild its parent's, by its PID here.
        Assert.Equal([(Child, DeputyAtHome), (Grandchild, Child)], report.Children.Select(c => (c.Pid, c.ParentPid)).Order());
        Assert.All(report.Children, c => Assert.Equal((2, c.Pid, "remote", 1000), (c.Where, c.RemotePid, c.State, c.Uid)));
        Assert.Null(report.Problem());
        _started.Remove(Child);
        _started.Remove(Grandchild);
        Assert.Empty(reports.Due()!.Children);
        Assert.Null(reports.Due());
    }

    [Fact]
    public void What_a_child_that_moved_on_forked_where_it_runs_goes_on_to_the_copys_home_and_nothing_else_does()
    {
        var registry = NodeTwo();
        registry.Register(Local, 1000);
        registry.RegisterForked(Child, Guest);
        registry.Update(registry.Find(Child)!, p => (p.State, p.Where, p.RemotePid) = (ProcessState.Remote, 3, 777));
        registry.Update(registry.Find(Local)!, p => (p.State, p.Where, p.RemotePid) = (ProcessState.Remote, 3, 778));
        var fromChild = new Route(Child);
        // The child's copy on node 3 forked there; so did a process of this node outside the copy's tree.
        registry.ForkedAway.Set(fromChild, 3, [new ForkedAway.Forked(Grandchild, Child, 1000, 4, 888, "remote", "sleep 9", 0.5, 4096)]);
        registry.ForkedAway.Set(new Route(Local), 3, [new ForkedAway.Forked(LocalChild, Local, 1000, 3, LocalChild, "remote", "sleep 8", 0, 0)]);
        var reports = new ForkReports(registry, Guest, _ => false);

        var report = reports.Due()!;

        Assert.Equal([(Child, DeputyAtHome, 3, 777), (Grandchild, Child, 4, 888)],
            report.Children.Select(c => (c.Pid, c.ParentPid, c.Where, c.RemotePid)).Order());
        Assert.Null(report.Problem());
        // Home's signals and moves for the grandchild go on over the child's link; nothing reaches the other tree.
        Assert.Same(fromChild, reports.MovedOnRoute(Grandchild));
        Assert.Null(reports.MovedOnRoute(LocalChild));
        Assert.False(reports.Signal(new SignalForked(LocalChild, 15)));
        // The same PID listed twice (another node's PID space) is listed once.
        registry.ForkedAway.Set(fromChild, 3, [new ForkedAway.Forked(Child, Child, 1000, 3, 999, "remote", "sleep 7", 0, 0)]);
        Assert.Equal([Child], reports.Due()!.Children.Select(c => c.Pid));
    }

    [Fact]
    public void Children_that_outlive_the_copy_are_reported_on_as_orphans_until_the_last_ends()
    {
        var registry = NodeTwo();
        var reports = new ForkReports(registry, Guest, _ => false);
        registry.RegisterForked(Child, Guest);
        registry.RegisterForked(Grandchild, Child);

        // The copy ends: its entry goes, its children stay this node's own.
        _started.Remove(Guest);
        reports.CopyEnded = true;

        Assert.True(reports.AnyLeft);
        Assert.Equal([(Child, 1), (Grandchild, Child)], reports.Due()!.Children.Select(c => (c.Pid, c.ParentPid)).Order());
        _started.Remove(Child);
        Assert.True(reports.AnyLeft);
        Assert.Equal([Grandchild], reports.Due()!.Children.Select(c => c.Pid));
        _started.Remove(Grandchild);
        Assert.False(reports.AnyLeft);
        Assert.Empty(reports.Due()!.Children);
    }

    [Fact]
    public void An_orphan_that_ended_and_is_not_reaped_yet_is_not_waited_for()
    {
        // A real child that exits and is left unreaped: a zombie, as an orphan is until whoever adopted it reaps it.
        using var child = ChildProcess.Start("/bin/true", []);
        Poll.Until(() => OpenMosix.Linux.Proc.ProcFs.ReadStat(child.Pid).State == 'Z', TimeSpan.FromSeconds(10), "the child to exit");
        _started[child.Pid] = ProcessRegistry.StartTimeOf(child.Pid)!.Value;
        var registry = NodeTwo();
        registry.RegisterForked(child.Pid, Guest);
        Assert.Single(registry.ForkedBy(Guest));

        var reports = new ForkReports(registry, Guest);

        Assert.False(reports.AnyLeft);
        Assert.Null(reports.Due());
    }

    [Fact]
    public void Home_finds_what_a_copy_forked_only_under_its_tree()
    {
        var registry = NodeTwo();
        registry.Register(Local, 1000);
        registry.RegisterForked(Child, Guest);
        var reports = new ForkReports(registry, Guest, _ => false);

        Assert.Equal(Child, reports.Find(Child)?.Pid);
        Assert.Null(reports.Find(Local));
        Assert.Null(reports.Find(Guest));
    }

    [Fact]
    public void A_signal_from_home_goes_only_to_a_process_of_that_copys_tree()
    {
        var registry = NodeTwo();
        registry.Register(Local, 1000);
        var reports = new ForkReports(registry, Guest, _ => false);

        Assert.False(reports.Signal(new SignalForked(Local, 15)));
        Assert.False(reports.Signal(new SignalForked(Guest, 15)));
    }

    [Fact]
    public void A_signal_from_home_reaches_a_real_child_of_the_copy()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["36"]);
        _started[child.Pid] = ProcessRegistry.StartTimeOf(child.Pid)!.Value;
        var registry = NodeTwo();
        registry.RegisterForked(child.Pid, Guest);

        Assert.True(new ForkReports(registry, Guest, _ => false).Signal(new SignalForked(child.Pid, Signals.SIGKILL)));

        Assert.Equal(Signals.SIGKILL, child.WaitForExit(TimeSpan.FromSeconds(10)).Signal);
    }

    [Fact]
    public void Home_lists_each_nodes_last_report_with_itself_as_home_until_the_copys_link_ends()
    {
        var home = new ProcessRegistry(1, _ => null);
        var link = new Route();
        home.ForkedAway.Set(link, 2, [new ForkedAway.Forked(Child, DeputyAtHome, 1000, 2, Child, "remote", "spinner 8", 1.5, 4096)]);
        home.ForkedAway.Set(link, 2, [
            new ForkedAway.Forked(Child, DeputyAtHome, 1000, 3, 777, "remote", "spinner 8", 2.5, 4096),
            new ForkedAway.Forked(Grandchild, Child, 1000, 2, Grandchild, "remote", "sleep 9", 0, 0),
        ]);

        var rows = home.List().Processes;

        Assert.Equal([(Child, 1, 3, 777, DeputyAtHome, "forked-away"), (Grandchild, 1, 2, Grandchild, Child, "forked-away")],
            rows.Select(r => (r.Pid, r.Home, r.Where, r.RemotePid, r.ParentPid, r.Origin)));
        Assert.Equal((link, (ushort)2), (home.ForkedAway.Find(Grandchild)!.Value.Route, home.ForkedAway.Find(Grandchild)!.Value.Node));
        // Another copy's link (the deputy's PID handed out again) neither replaces nor clears these.
        home.ForkedAway.Clear(new Route());
        Assert.Equal(2, home.List().Processes.Count);
        home.ForkedAway.Clear(link);
        Assert.Empty(home.List().Processes);
        Assert.Null(home.ForkedAway.Find(Child));
    }

    [Fact]
    public void A_forked_away_process_moved_on_to_home_is_listed_once_under_the_pid_home_knows()
    {
        var started = new Dictionary<int, ulong> { [6000] = 5 };
        var home = new ProcessRegistry(1, pid => started.TryGetValue(pid, out var t) ? t : null);
        // Moved from its birth node 2 to node 1: a guest here, PID 6000, of node 2, where it is Child.
        home.AddGuest(6000, 1000, home: 2, "spinner 8", homePid: Child);
        home.ForkedAway.Set(new Route(), 2, [new ForkedAway.Forked(Child, DeputyAtHome, 1000, 1, 6000, "remote", "spinner 8", 1, 4096)]);

        var rows = home.List().Processes;

        Assert.Equal([(Child, 1, 6000, "forked-away")], rows.Select(r => (r.Pid, r.Where, r.RemotePid, r.Origin)));
    }

    /// <summary>A copy's link as home's lists know it; nothing goes over it here.</summary>
    private sealed class Route(int deputy = DeputyAtHome) : IForkedRoute
    {
        public int Deputy => deputy;

        public string? Signal(int pid, int signal) => "not here";

        public Task<OpenMosix.Admin.MigrationResult> MoveAsync(int pid, string target, bool? precopy) =>
            Task.FromException<OpenMosix.Admin.MigrationResult>(new InvalidOperationException("not here"));
    }
}
