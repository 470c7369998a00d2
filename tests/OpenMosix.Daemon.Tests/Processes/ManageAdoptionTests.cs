using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Events;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>[manage]: processes the policy names are adopted once they have run a moment after their exec.</summary>
public sealed class ManageAdoptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ProcessRegistry _registry = new(1);
    private readonly List<ManagedProcess> _execed = [];

    private DescendantTracker Tracker(params string[] programs) => new(_registry, NullLogger.Instance)
    {
        Policy = () => new ManagePolicy([], [], programs, _ => null),
        Execed = _execed.Add,
    };

    private static ChildProcess Sleep(string seconds)
    {
        var child = ChildProcess.Start("/bin/sleep", [seconds]);
        Poll.Until(() => ProcFs.ReadCommandLine(child.Pid).Contains(seconds), Patience, "sleep to run");
        return child;
    }

    private static ProcessEvent Exec(int pid, TimeSpan at) => new(ProcessEventKind.Exec, pid, 0, at);

    [Fact]
    public void A_process_the_policy_names_is_adopted_once_it_has_run_the_adoption_delay()
    {
        using var sleeper = Sleep("91");
        using var tracker = Tracker("*/sleep");
        var execd = MonotonicClock.Now();
        tracker.Handle(Exec(sleeper.Pid, execd));
        tracker.AdoptDue(execd + DescendantTracker.AdoptionDelay / 2);
        Assert.Null(_registry.FindHome(sleeper.Pid));

        tracker.AdoptDue(execd + DescendantTracker.AdoptionDelay);
        var adopted = _registry.FindHome(sleeper.Pid)!;
        Assert.Equal(("adopted", new FileInfo($"/proc/{sleeper.Pid}/exe").LinkTarget, execd), (_registry.Row(adopted).Origin, adopted.Program, adopted.ExecutedAt));
        Assert.Equal([adopted], _execed);
    }

    [Fact]
    public void A_process_the_policy_does_not_name_is_left_alone()
    {
        using var sleeper = Sleep("92");
        using var tracker = Tracker("/opt/*");
        var execd = MonotonicClock.Now();
        tracker.Handle(Exec(sleeper.Pid, execd));
        tracker.AdoptDue(execd + DescendantTracker.AdoptionDelay);
        Assert.Null(_registry.FindHome(sleeper.Pid));
        Assert.Empty(_execed);
    }

    [Fact]
    public void A_process_that_ended_within_the_adoption_delay_is_never_adopted()
    {
        var quick = ChildProcess.Start("/bin/true", []);
        var execd = MonotonicClock.Now();
        quick.WaitForExit(Patience);
        using var tracker = Tracker("*");
        tracker.Handle(Exec(quick.Pid, execd));
        tracker.AdoptDue(execd + DescendantTracker.AdoptionDelay);
        Assert.Null(_registry.FindHome(quick.Pid));
    }

    [Fact]
    public void Without_the_kernels_events_a_process_a_scan_finds_new_is_adopted_by_a_later_scan_if_the_policy_names_it()
    {
        using var tracker = Tracker("*/sleep");
        var first = MonotonicClock.Now();
        tracker.ScanForPolicy(first);
        using var sleeper = Sleep("94");
        tracker.ScanForPolicy(first + DescendantTracker.AdoptionDelay);
        Assert.Null(_registry.FindHome(sleeper.Pid));

        tracker.ScanForPolicy(first + DescendantTracker.AdoptionDelay * 2);
        Assert.Equal("adopted", _registry.Row(_registry.FindHome(sleeper.Pid)!).Origin);
        Assert.Contains(_execed, p => p.Pid == sleeper.Pid);
    }

    [Fact]
    public void Without_the_kernels_events_processes_there_before_the_first_scan_are_left_alone()
    {
        using var sleeper = Sleep("95");
        using var tracker = Tracker("*/sleep");
        var first = MonotonicClock.Now();
        tracker.ScanForPolicy(first);
        tracker.ScanForPolicy(first + DescendantTracker.AdoptionDelay);
        tracker.ScanForPolicy(first + DescendantTracker.AdoptionDelay * 2);
        Assert.Null(_registry.FindHome(sleeper.Pid));
    }

    [Fact]
    public void Without_a_policy_nothing_is_adopted()
    {
        using var sleeper = Sleep("93");
        using var tracker = new DescendantTracker(_registry, NullLogger.Instance);
        var execd = MonotonicClock.Now();
        tracker.Handle(Exec(sleeper.Pid, execd));
        tracker.AdoptDue(execd + DescendantTracker.AdoptionDelay);
        Assert.Null(_registry.FindHome(sleeper.Pid));
    }
}
