using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests;

/// <summary>The sandbox's time limit is the input's own running time: a loop is caught, a wait for a core is not.</summary>
public sealed class SandboxTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void An_input_that_loops_is_reported_once_it_has_run_the_limit()
    {
        using var sandbox = new Sandbox();
        var outcome = sandbox.Run(() =>
        {
            while (true) Thread.SpinWait(1000);
        }, Limit);
        Assert.True(outcome.TimedOut);
    }

    [Fact]
    public void An_input_off_the_cpu_longer_than_the_limit_but_not_running_it_is_judged_on_what_it_did()
    {
        using var sandbox = new Sandbox();
        // Three times the limit without running: as an input kept waiting for a core on a loaded machine.
        var outcome = sandbox.Run(() =>
        {
            Thread.Sleep(Limit * 3);
            return true;
        }, Limit);
        Assert.Equal((false, true), (outcome.TimedOut, outcome.Accepted));
    }

    [Fact]
    public void An_input_that_blocks_for_ever_is_reported_after_the_wall_clock_cap()
    {
        using var sandbox = new Sandbox();
        var never = new ManualResetEventSlim();
        var outcome = sandbox.Run(() => never.Wait(TimeSpan.FromMinutes(5)), Limit);
        never.Set();
        Assert.True(outcome.TimedOut);
        Assert.True(outcome.Elapsed >= Limit * 15, $"reported after {outcome.Elapsed}");
    }
}
