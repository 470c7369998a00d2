using OpenMosix.Admin;
using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Events;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>Fork-and-forget with a real registry and real processes: events fed by hand, then the kernel's own.</summary>
public sealed class DescendantTrackerTests() : RecordingTrackerTests(4)
{
    // On the kernel's clock, after the tests' registrations, as its reports of a registered process are: an exit
    // reported from before a registration is an earlier process's (ProcessRegistry.FindExited).
    private static readonly TimeSpan Born = MonotonicClock.Now() + TimeSpan.FromHours(1), Execd = Born + TimeSpan.FromSeconds(1);

    private static ChildProcess StartSleep(string seconds)
    {
        var child = ChildProcess.Start("/bin/sleep", [seconds]);
        Poll.Until(() => ProcFs.ReadCommandLine(child.Pid).Contains(seconds), Patience, "sleep to run");
        return child;
    }

    /// <summary>A managed parent with settings of its own to hand down.</summary>
    private ManagedProcess RegisterParent(int pid)
    {
        var parent = Registry.Register(pid, 0, DecayMode.Fast, JobHint.Cpu);
        Registry.Update(parent, p =>
        {
            p.Locked = true;
            p.Request = new RunRequest(0, [2, 3], Fallback: true, Home: false, Lock: true);
        });
        return parent;
    }

    [Fact]
    public void A_fork_of_a_managed_process_registers_the_child_with_its_parents_settings()
    {
        using var parentProcess = StartSleep("71");
        using var childProcess = StartSleep("72");
        var parent = RegisterParent(parentProcess.Pid);
        using var tracker = Tracker();

        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, childProcess.Pid, parentProcess.Pid, Born));

        var child = Registry.FindHome(childProcess.Pid);
        Assert.NotNull(child);
        Assert.Equal((parentProcess.Pid, true, DecayMode.Fast, JobHint.Cpu, parent.Request, parent.Command, (ushort)4, ProcessState.Home, Born),
            (child.ParentPid, child.Locked, child.Decay, child.Hint, child.Request, child.Command, child.Home, child.State, child.ExecutedAt));
        Assert.Equal(parentProcess.Pid, Registry.Row(child).ParentPid);
        Assert.Empty(Execed);
    }

    [Fact]
    public void A_fork_of_a_process_that_is_not_managed_is_ignored()
    {
        using var parentProcess = StartSleep("73");
        using var childProcess = StartSleep("74");
        using var tracker = Tracker();
        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, childProcess.Pid, parentProcess.Pid, Born));
        Assert.Null(Registry.FindHome(childProcess.Pid));
        Assert.Empty(Registry.HomePids());
    }

    [Fact]
    public void A_fork_of_a_process_away_is_ignored_and_a_fork_of_a_guest_is_managed_here_with_every_setting_home_gave_the_guest()
    {
        using var away = StartSleep("75");
        using var guest = StartSleep("76");
        using var first = StartSleep("77");
        using var second = StartSleep("78");
        Registry.Update(Registry.Register(away.Pid, 0), p => (p.State, p.Where) = (ProcessState.Remote, 2));
        var wishes = new RunRequest(0, [2, 3], Fallback: false, Home: false, Lock: true);
        Registry.AddGuest(guest.Pid, 0, home: 1, "guest", homePid: 900, DecayMode.None, JobHint.Io, locked: true, request: wishes);
        using var tracker = Tracker();

        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, first.Pid, away.Pid, Born));
        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, second.Pid, guest.Pid, Born));

        Assert.Null(Registry.FindHome(first.Pid));
        var child = Registry.FindHome(second.Pid);
        Assert.NotNull(child);
        Assert.Equal(((ushort)4, guest.Pid, DecayMode.None, JobHint.Io, true, wishes), (child.Home, child.ParentPid, child.Decay, child.Hint, child.Locked, child.Request));
    }

    [Fact]
    public void A_child_that_is_already_gone_when_its_fork_is_read_is_not_listed()
    {
        using var parentProcess = StartSleep("79");
        var gone = ChildProcess.Start("/bin/true", []);
        gone.WaitForExit(Patience);
        RegisterParent(parentProcess.Pid);
        using var tracker = Tracker();
        // Registered from the event alone (nothing is read from /proc at a fork), and dropped once seen gone.
        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, gone.Pid, parentProcess.Pid, Born));
        Assert.DoesNotContain(Registry.List().Processes, p => p.Pid == gone.Pid);
        Assert.Null(Registry.FindHome(gone.Pid));
    }

    [Fact]
    public void An_exec_of_a_managed_process_records_its_program_and_is_passed_on_and_its_command_is_read_when_listed()
    {
        using var parentProcess = StartSleep("80");
        using var childProcess = StartSleep("81");
        RegisterParent(parentProcess.Pid);
        using var tracker = Tracker();
        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, childProcess.Pid, parentProcess.Pid, Born));

        tracker.Handle(new ProcessEvent(ProcessEventKind.Exec, childProcess.Pid, 0, Execd));

        var child = Registry.FindHome(childProcess.Pid)!;
        Assert.Equal((new FileInfo($"/proc/{childProcess.Pid}/exe").LinkTarget, Execd), (child.Program, child.ExecutedAt));
        Assert.Equal("/bin/sleep 81", Registry.Row(child).Command);
        Assert.Equal([child], Execed);
    }

    [Fact]
    public void An_exec_of_a_process_that_is_not_managed_or_not_at_home_is_ignored()
    {
        using var moving = StartSleep("82");
        using var stranger = StartSleep("83");
        var process = Registry.Register(moving.Pid, 0);
        Registry.Update(process, p => p.State = ProcessState.Migrating);
        using var tracker = Tracker();

        tracker.Handle(new ProcessEvent(ProcessEventKind.Exec, moving.Pid, 0, Execd));
        tracker.Handle(new ProcessEvent(ProcessEventKind.Exec, stranger.Pid, 0, Execd));

        Assert.Null(process.Program);
        Assert.Null(Registry.FindHome(stranger.Pid));
        Assert.Empty(Execed);
    }

    [Fact]
    public void An_exit_reports_how_long_the_program_ran_since_its_exec_and_forgets_the_process()
    {
        using var parentProcess = StartSleep("84");
        using var childProcess = StartSleep("85");
        RegisterParent(parentProcess.Pid);
        using var tracker = Tracker();
        tracker.Handle(new ProcessEvent(ProcessEventKind.Fork, childProcess.Pid, parentProcess.Pid, Born));
        tracker.Handle(new ProcessEvent(ProcessEventKind.Exec, childProcess.Pid, 0, Execd));
        var program = Registry.FindHome(childProcess.Pid)!.Program!;

        tracker.Handle(new ProcessEvent(ProcessEventKind.Exit, childProcess.Pid, parentProcess.Pid, Execd + TimeSpan.FromSeconds(2.5)));

        Assert.Equal([(program, TimeSpan.FromSeconds(2.5))], Ended);
        Assert.Null(Registry.FindHome(childProcess.Pid));
        Assert.NotNull(Registry.FindHome(parentProcess.Pid));
    }

    [Fact]
    public void An_exit_without_an_exec_seen_is_forgotten_without_a_lifetime()
    {
        using var sleep = StartSleep("86");
        Registry.Register(sleep.Pid, 0);
        using var tracker = Tracker();
        tracker.Handle(new ProcessEvent(ProcessEventKind.Exit, sleep.Pid, 1, Execd));
        Assert.Empty(Ended);
        Assert.Null(Registry.FindHome(sleep.Pid));
    }

    [Fact]
    public void An_exit_of_a_process_away_leaves_it_to_the_migration()
    {
        using var sleep = StartSleep("87");
        var process = Registry.Register(sleep.Pid, 0);
        Registry.Update(process, p => (p.State, p.Where) = (ProcessState.Remote, 2));
        using var tracker = Tracker();
        tracker.Handle(new ProcessEvent(ProcessEventKind.Exit, sleep.Pid, 1, Execd));
        Assert.Same(process, Registry.FindHome(sleep.Pid));
    }
}
