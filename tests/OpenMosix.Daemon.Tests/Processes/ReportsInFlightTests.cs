using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Admin;
using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux.Events;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>
/// The kernel's reports of forks, execs and exits are read late, in the order it sent them: by then the process a
/// report is about may have ended and its PID been handed out again. Here the PIDs are past pid_max (no real process
/// answers under them) and their start times are the ones the test gives, so each sequence is exact.
/// </summary>
public sealed class ReportsInFlightTests : IDisposable
{
    private const int Parent = 5_000_101, Child = 5_000_102, Grandchild = 5_000_103, Later = 5_000_104;
    // On the kernel's clock, after the tests' registrations, as its reports of a registered process are (an exit
    // reported from before a registration is an earlier process's: ProcessRegistry.FindExited).
    private static readonly TimeSpan At = OpenMosix.Linux.MonotonicClock.Now() + TimeSpan.FromHours(1);
    private readonly Dictionary<int, ulong> _started = [];
    private readonly List<ManagedProcess> _execed = [];
    private readonly List<(string Program, TimeSpan Lifetime)> _ended = [];
    private readonly ProcessRegistry _registry;
    private readonly DescendantTracker _tracker;

    public ReportsInFlightTests()
    {
        _registry = new ProcessRegistry(1, pid => _started.TryGetValue(pid, out var t) ? t : null);
        _tracker = new DescendantTracker(_registry, NullLogger.Instance)
        {
            Execed = _execed.Add,
            Ended = (program, lifetime) => _ended.Add((program, lifetime)),
        };
    }

    /// <summary>om run of a locked, CPU-bound make under <see cref="Parent"/>, started at tick 100.</summary>
    private ManagedProcess RunLockedMake()
    {
        _started[Parent] = 100;
        var make = _registry.Register(Parent, 1000, DecayMode.Slow, JobHint.Cpu);
        _registry.Update(make, p => (p.Locked, p.Program, p.ExecutedAt) = (true, "/usr/bin/make", At));
        return make;
    }

    private void Report(ProcessEventKind kind, int pid, int parent = 0, double seconds = 0) =>
        _tracker.Handle(new ProcessEvent(kind, pid, parent, At + TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_child_and_grandchild_forked_by_processes_that_ended_before_their_forks_were_read_are_managed_with_the_settings_handed_down()
    {
        // (make &): the subshell forks make's job and exits; all of it happened before omd read the first fork.
        RunLockedMake();
        _started[Grandchild] = 120;
        _started.Remove(Parent);

        Report(ProcessEventKind.Fork, Child, Parent);
        Report(ProcessEventKind.Fork, Grandchild, Child);
        Report(ProcessEventKind.Exit, Child, Parent);

        var grandchild = _registry.FindHome(Grandchild);
        Assert.NotNull(grandchild);
        Assert.Equal((Child, true, DecayMode.Slow, JobHint.Cpu, 1000u), (grandchild.ParentPid, grandchild.Locked, grandchild.Decay, grandchild.Hint, grandchild.Uid));
        Assert.Null(_registry.FindHome(Child));
    }

    [Fact]
    public void An_exit_read_after_the_pid_went_to_a_new_om_run_forgets_the_ended_process_and_keeps_the_new_one_managed()
    {
        RunLockedMake();
        _started[Parent] = 300;
        var fresh = _registry.Register(Parent, 2000);

        Report(ProcessEventKind.Exit, Parent, 1, seconds: 4);

        Assert.Same(fresh, _registry.FindHome(Parent));
        Assert.Equal([("/usr/bin/make", TimeSpan.FromSeconds(4))], _ended);
        Assert.Equal([Parent], _registry.List().Processes.Select(p => p.Pid));
        Assert.Equal((2000, false), (_registry.List().Processes[0].Uid, _registry.List().Processes[0].Locked));
    }

    [Fact]
    public void A_fork_read_after_its_parents_pid_went_to_a_new_om_run_is_the_ended_parents_child_and_later_forks_are_the_new_ones()
    {
        RunLockedMake();
        _started[Parent] = 300;
        _started[Child] = 150;
        _started[Later] = 310;
        var fresh = _registry.Register(Parent, 2000, DecayMode.None, JobHint.Io);

        Report(ProcessEventKind.Fork, Child, Parent);
        Report(ProcessEventKind.Exit, Parent, 1);
        Report(ProcessEventKind.Fork, Later, Parent);

        var child = _registry.FindHome(Child)!;
        Assert.Equal((true, DecayMode.Slow, JobHint.Cpu, 1000u), (child.Locked, child.Decay, child.Hint, child.Uid));
        var later = _registry.FindHome(Later)!;
        Assert.Equal((false, DecayMode.None, JobHint.Io, 2000u), (later.Locked, later.Decay, later.Hint, later.Uid));
        Assert.Same(fresh, _registry.FindHome(Parent));
    }

    [Fact]
    public void A_fork_by_a_process_that_is_not_managed_under_the_pid_of_one_whose_exit_was_read_is_not_managed()
    {
        RunLockedMake();
        _started.Remove(Parent);
        Report(ProcessEventKind.Exit, Parent, 1);
        _started[Parent] = 300;
        _started[Child] = 310;

        Report(ProcessEventKind.Fork, Child, Parent);
        Report(ProcessEventKind.Exec, Parent);

        Assert.Null(_registry.FindHome(Child));
        Assert.Null(_registry.FindHome(Parent));
        Assert.Empty(_registry.List().Processes);
        Assert.Empty(_execed);
    }

    [Fact]
    public void An_exec_read_after_its_pid_went_to_another_process_records_nothing_and_lends_that_process_nothing()
    {
        var make = RunLockedMake();
        _started[Child] = 150;
        Report(ProcessEventKind.Fork, Child, Parent);
        _started[Child] = 400;

        Report(ProcessEventKind.Exec, Child, seconds: 1);
        Report(ProcessEventKind.Exit, Child, Parent, seconds: 2);

        Assert.Empty(_execed);
        Assert.Empty(_ended);
        Assert.Null(_registry.FindHome(Child));
        Assert.Null(_registry.Find(Child));
        Assert.Equal([Parent], _registry.List().Processes.Select(p => p.Pid));
        Assert.Equal("/usr/bin/make", make.Program);
    }

    [Fact]
    public void After_the_kernel_dropped_reports_an_ended_process_no_longer_counts_as_the_forker_of_its_pids_next_process()
    {
        // Its exit may have been among the dropped reports: the next fork under its PID is then another process's.
        RunLockedMake();
        _started.Remove(Parent);
        Report(ProcessEventKind.Lost, 0);
        _started[Parent] = 300;
        _started[Child] = 310;

        Report(ProcessEventKind.Fork, Child, Parent);

        Assert.Null(_registry.FindHome(Child));
        Assert.Empty(_registry.List().Processes);
    }

    [Fact]
    public void An_exit_read_after_a_lookup_set_the_ended_process_aside_and_its_pid_was_registered_again_forgets_only_the_ended_one()
    {
        RunLockedMake();
        _started.Remove(Parent);
        Assert.Empty(_registry.List().Processes);
        _started[Parent] = 300;
        _started[Child] = 310;
        var fresh = _registry.Register(Parent, 2000);

        Report(ProcessEventKind.Fork, Child, Parent);
        Report(ProcessEventKind.Exit, Parent, 1, seconds: 3);

        Assert.True(_registry.FindHome(Child)!.Locked, "the fork read before the exit is the ended make's");
        Assert.Same(fresh, _registry.FindHome(Parent));
        Assert.Equal([("/usr/bin/make", TimeSpan.FromSeconds(3))], _ended);
    }

    public void Dispose() => _tracker.Dispose();
}
