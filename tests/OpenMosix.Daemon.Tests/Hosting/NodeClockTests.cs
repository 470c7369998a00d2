using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Daemon.Tests.Hosting;

public sealed class NodeClockTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Jobs_whose_periods_divide_each_other_run_at_the_same_instants_with_one_wakeup_each()
    {
        var clock = new NodeClock(NullLogger.Instance);
        var fast = 0;
        var slow = 0;
        clock.Every("fast", TimeSpan.FromMilliseconds(20), () => Interlocked.Increment(ref fast));
        clock.Every("slow", TimeSpan.FromMilliseconds(60), () => Interlocked.Increment(ref slow));
        using var stop = new CancellationTokenSource();
        var run = clock.RunAsync(stop.Token);
        await Until(() => Volatile.Read(ref slow) >= 6);
        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);

        // Every instant is a multiple of 20 ms from the clock's origin, so the fast job runs at each one, and the
        // slow job never costs a wakeup of its own. (Under load ticks missed are skipped, so the ratio of the two
        // counts is not fixed: a late wakeup may skip two fast ticks and no slow one.)
        Assert.Equal(clock.Instants, fast);
        Assert.True(slow < fast, $"slow {slow}, fast {fast}");
    }

    [Fact]
    public async Task A_job_that_throws_runs_again_and_does_not_stop_the_others()
    {
        var clock = new NodeClock(NullLogger.Instance);
        var failures = 0;
        var runs = 0;
        clock.Every("failing", TimeSpan.FromMilliseconds(10), () =>
        {
            Interlocked.Increment(ref failures);
            throw new InvalidOperationException("broken");
        });
        clock.Every("healthy", TimeSpan.FromMilliseconds(10), () => Interlocked.Increment(ref runs));
        using var stop = new CancellationTokenSource();
        var run = clock.RunAsync(stop.Token);
        await Until(() => Volatile.Read(ref failures) >= 3 && Volatile.Read(ref runs) >= 3);
        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.True(run.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Every_job_runs_on_the_clocks_own_thread_and_first_at_once()
    {
        var clock = new NodeClock(NullLogger.Instance);
        var threads = new ConcurrentBag<(int Id, bool Pooled)>();
        var hourly = 0;
        clock.Every("hourly", TimeSpan.FromHours(1), () =>
        {
            Interlocked.Increment(ref hourly);
            threads.Add((Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread));
        });
        clock.Every("often", TimeSpan.FromMilliseconds(10), () => threads.Add((Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread)));
        using var stop = new CancellationTokenSource();
        var run = clock.RunAsync(stop.Token);
        await Until(() => threads.Count >= 5);
        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(1, hourly);
        Assert.Single(threads.Select(t => t.Id).Distinct());
        Assert.DoesNotContain(threads, t => t.Pooled);
        Assert.NotEqual(Environment.CurrentManagedThreadId, threads.First().Id);
    }

    [Fact]
    public async Task Between_instants_the_clock_sleeps_rather_than_spins()
    {
        var clock = new NodeClock(NullLogger.Instance);
        var runs = 0;
        string? thread = null;
        clock.Every("often", TimeSpan.FromMilliseconds(3), () =>
        {
            // "PID/task/TID": the clock thread's own entry in /proc.
            Interlocked.CompareExchange(ref thread, "/proc/" + new FileInfo("/proc/thread-self").LinkTarget, null);
            Interlocked.Increment(ref runs);
        });
        using var stop = new CancellationTokenSource();
        var run = clock.RunAsync(stop.Token);
        await Until(() => Volatile.Read(ref runs) >= 2);
        var before = CpuNanoseconds(thread!);
        var wall = System.Diagnostics.Stopwatch.StartNew();
        await Until(() => Volatile.Read(ref runs) >= 102);
        var used = CpuNanoseconds(thread!) - before;
        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        // A hundred runs of an empty job take microseconds each: a clock that spins until each instant (as one that
        // truncated its waits to whole milliseconds did, up to a millisecond an instant) runs for a good part of the
        // wall time. A tenth of it leaves room for a loaded machine's slow wakeups.
        Assert.True(used < wall.Elapsed.TotalNanoseconds / 10, $"the clock ran {used / 1e6:F1} ms of {wall.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static long CpuNanoseconds(string task) => long.Parse(File.ReadAllText(Path.Join(task, "schedstat")).Split(' ')[0],
        System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_period_of_zero_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeClock(NullLogger.Instance).Every("never", TimeSpan.Zero, () => { }));

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the clock did not run its jobs in time");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
