using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Admin;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Policy;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Balancing;

/// <summary>Placement at exec in omd, with real processes: when a managed child is placed, where it is asked to go,
/// and which are left alone.</summary>
public sealed class ChildPlacementTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10), MoveCost = TimeSpan.FromMilliseconds(50);
    private readonly ProcessRegistry _registry = new(1);
    private readonly ConcurrentQueue<int> _byLoad = new();
    private readonly ConcurrentQueue<(int Pid, RunRequest Asked)> _asked = new();

    private ChildPlacement Placement() => new(_registry, p => _byLoad.Enqueue(p.Pid), (p, r) => _asked.Enqueue((p.Pid, r)),
        () => MoveCost, MonotonicClock.Now, new BalancerOptions(), NullLogger.Instance);

    /// <summary>A real process, registered as the managed child of a managed parent, its exec seen now.</summary>
    private ManagedProcess Child(ChildProcess process, Action<ManagedProcess>? change = null)
    {
        Poll.Until(() => ProcFs.ReadCommandLine(process.Pid).Count > 0, Patience, "the child to run");
        _registry.Register(Environment.ProcessId, 0);
        var child = _registry.RegisterChild(process.Pid, Environment.ProcessId)!;
        _registry.Update(child, c =>
        {
            c.Program = ProcessRegistry.ExecutableOf(process.Pid);
            c.ExecutedAt = MonotonicClock.Now();
            change?.Invoke(c);
        });
        return child;
    }

    [Fact]
    public void A_cpu_bound_child_of_an_unknown_program_is_placed_by_load_after_its_probation()
    {
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["30"]);
        var child = Child(spinner);
        var verdict = Placement().Execed(child);
        // Its probation is the cost factor times the move cost, less the moment since its exec.
        Assert.Equal(ExecTiming.AfterProbation, verdict?.Timing);
        Assert.InRange(verdict!.Value.Wait, TimeSpan.FromTicks(1), MoveCost * new BalancerOptions().CostFactor);
        Poll.Until(() => _byLoad.Contains(spinner.Pid), Patience, "the spinner to be placed");
        Assert.Empty(_asked);
    }

    [Fact]
    public void A_sleeping_child_is_not_worth_placing_when_its_wait_is_over()
    {
        using var sleeper = ChildProcess.Start("/bin/sleep", ["30"]);
        var child = Child(sleeper, c => c.ExecutedAt = MonotonicClock.Now() - TimeSpan.FromSeconds(1));
        Assert.False(Placement().StillWorthPlacing(child, child.Program!));
    }

    [Fact]
    public void A_spinning_child_is_still_worth_placing_unless_it_was_locked_meanwhile()
    {
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["30"]);
        var child = Child(spinner);
        var placement = Placement();
        Poll.Until(() => placement.StillWorthPlacing(child, child.Program!), Patience, "the spinner to want a CPU");
        _registry.Update(child, c => c.Locked = true);
        Assert.False(placement.StillWorthPlacing(child, child.Program!));
    }

    [Fact]
    public void A_child_whose_program_usually_ends_too_soon_is_never_placed_at_exec()
    {
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["30"]);
        var child = Child(spinner);
        var placement = Placement();
        for (var i = 0; i < 3; i++) placement.Ended(child.Program!, TimeSpan.FromMilliseconds(20));
        Assert.Equal(ExecTiming.Never, placement.Execed(child)?.Timing);
    }

    [Fact]
    public void A_child_that_inherited_on_node_3_is_sent_where_asked()
    {
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["30"]);
        var asked = new RunRequest(3, [], Fallback: false, Home: false, Lock: false);
        var child = Child(spinner, c => c.Request = asked);
        var placement = Placement();
        for (var i = 0; i < 3; i++) placement.Ended(child.Program!, TimeSpan.FromSeconds(60));
        Assert.Equal(ExecTiming.Now, placement.Execed(child)?.Timing);
        Poll.Until(() => _asked.Any(a => a.Pid == spinner.Pid && a.Asked == asked), Patience, "the child to be sent to node 3");
        Assert.Empty(_byLoad);
    }

    [Theory]
    [InlineData("locked")]
    [InlineData("io")]
    [InlineData("home")]
    [InlineData("om run")]
    public void Locked_io_kept_home_and_om_run_processes_are_not_placed_at_exec(string kind)
    {
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["30"]);
        var child = Child(spinner, c =>
        {
            c.Locked = kind == "locked";
            c.Hint = kind == "io" ? JobHint.Io : JobHint.Measured;
            c.Request = kind == "home" ? new RunRequest(0, [], false, Home: true, Lock: false) : null;
        });
        var process = kind == "om run" ? _registry.Register(spinner.Pid, 0) : child;
        if (kind == "om run") _registry.Update(process, p => p.Program = child.Program);
        Assert.Null(Placement().Execed(process));
    }
}
