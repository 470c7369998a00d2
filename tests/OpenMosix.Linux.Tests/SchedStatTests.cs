using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

public sealed class SchedStatTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Schedstat_gives_running_and_waiting_nanoseconds_to_the_tick()
    {
        var stat = SchedStat.Parse("123456789 98765 42\n");
        Assert.Equal(TimeSpan.FromTicks(1_234_567), stat.Running);
        Assert.Equal(TimeSpan.FromTicks(987), stat.Waiting);
        Assert.Equal(TimeSpan.FromTicks(1_235_554), stat.Wanting);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12\n")]
    [InlineData("x 1 2\n")]
    [InlineData("-5 1 2\n")]
    public void Malformed_schedstat_is_a_format_error(string text)
    {
        Assert.ThrowsAny<FormatException>(() => SchedStat.Parse(text));
    }

    [Fact]
    public void A_spinning_process_wants_a_cpu_all_its_life_and_a_sleeping_one_hardly_ever()
    {
        var started = MonotonicClock.Now();
        using var spinner = ChildProcess.Start(TestPrograms.Locate("spinner"), ["60"]);
        using var sleeper = ChildProcess.Start(TestPrograms.Locate("sleeper"), ["1200", "50"]);
        // However crowded the machine, running plus waiting to run adds up to its age for a CPU-bound process.
        Poll.Until(() => SchedStat.Read(spinner.Pid).Wanting >= TimeSpan.FromMilliseconds(500), Patience, "half a second of wanting a CPU");
        var spinning = SchedStat.Read(spinner.Pid);
        var sleeping = SchedStat.Read(sleeper.Pid);
        var age = MonotonicClock.Now() - started;

        Assert.True(spinning.Wanting >= age / 2, $"spinner wanted {spinning.Wanting.TotalMilliseconds:F0} ms of {age.TotalMilliseconds:F0} ms");
        // Against the spinner, not the clock: on a loaded machine each of the sleeper's wakeups waits in the run queue
        // (a CI run saw 139 ms of 732), but never for most of its life as the spinner does.
        Assert.True(sleeping.Wanting < spinning.Wanting / 3,
            $"sleeper wanted {sleeping.Wanting.TotalMilliseconds:F0} ms, spinner {spinning.Wanting.TotalMilliseconds:F0} ms, of {age.TotalMilliseconds:F0} ms");
        Assert.True(spinning.Running > TimeSpan.Zero);
    }

    [Fact]
    public void The_monotonic_clock_never_goes_back()
    {
        var first = MonotonicClock.Now();
        var second = MonotonicClock.Now();
        Assert.True(first > TimeSpan.Zero && second >= first, $"{first} then {second}");
    }
}
