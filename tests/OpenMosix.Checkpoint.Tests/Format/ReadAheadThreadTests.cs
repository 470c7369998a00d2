using OpenMosix.Checkpoint.Format;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>An image reader's read-ahead runs its loads one at a time on a thread of its own, not on the thread pool
/// (a load that blocks on a node link for every frame must not make the pool start more workers).</summary>
public sealed class ReadAheadThreadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Run, for what it throws at once (a refused load never gets a task).</summary>
    private static void Start(ReadAheadThread<int> readAhead, Func<int> load) => _ = readAhead.Run(load);

    [Fact]
    public async Task Loads_run_in_turn_on_one_thread_that_is_not_a_pool_thread()
    {
        using var readAhead = new ReadAheadThread<(int Thread, bool Pool)>();
        var seen = new List<(int Thread, bool Pool)>();
        for (var i = 0; i < 5; i++)
            seen.Add(await readAhead.Run(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread)).WaitAsync(Bound, Cancel));

        Assert.All(seen, s => Assert.False(s.Pool));
        Assert.Single(seen.Select(s => s.Thread).Distinct());
        Assert.Equal(1, readAhead.ThreadsStarted);
    }

    [Fact]
    public async Task A_load_that_throws_fails_its_task_with_that_exception_and_the_next_load_still_runs()
    {
        using var readAhead = new ReadAheadThread<int>();
        await Assert.ThrowsAsync<InvalidDataException>(() => readAhead.Run(() => throw new InvalidDataException("section checksum mismatch")).WaitAsync(Bound, Cancel));

        Assert.Equal(7, await readAhead.Run(() => 7).WaitAsync(Bound, Cancel));
    }

    [Fact]
    public async Task A_second_load_before_the_first_is_done_is_refused()
    {
        using var readAhead = new ReadAheadThread<int>();
        var release = new TaskCompletionSource();
        var first = readAhead.Run(() =>
        {
            release.Task.Wait(Cancel);
            return 1;
        });

        Assert.Throws<InvalidOperationException>(() => Start(readAhead, () => 2));
        release.SetResult();
        Assert.Equal(1, await first.WaitAsync(Bound, Cancel));
    }

    [Fact]
    public async Task The_thread_ends_when_left_idle_and_a_later_load_starts_a_new_one()
    {
        using var readAhead = new ReadAheadThread<int>(idleEnd: TimeSpan.FromMilliseconds(50));
        Thread? first = null;
        await readAhead.Run(() =>
        {
            first = Thread.CurrentThread;
            return 1;
        }).WaitAsync(Bound, Cancel);

        // The thread itself reports its end: it is joined, not waited for by the clock.
        Assert.True(first!.Join(Bound));
        Assert.Equal(2, await readAhead.Run(() => 2).WaitAsync(Bound, Cancel));
        Assert.Equal(2, readAhead.ThreadsStarted);
    }

    [Fact]
    public async Task A_disposed_read_ahead_takes_no_more_loads_and_its_thread_ends()
    {
        var readAhead = new ReadAheadThread<int>();
        Thread? thread = null;
        await readAhead.Run(() =>
        {
            thread = Thread.CurrentThread;
            return 1;
        }).WaitAsync(Bound, Cancel);

        readAhead.Dispose();

        Assert.True(thread!.Join(Bound));
        Assert.Throws<ObjectDisposedException>(() => Start(readAhead, () => 2));
    }
}
