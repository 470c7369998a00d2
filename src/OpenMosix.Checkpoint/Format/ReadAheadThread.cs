namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// The thread an <see cref="ImageReader"/> loads its next section on, one load at a time. A load from a node link
/// blocks for every frame (the link's receive, waited for synchronously); on a thread-pool thread each such wait told
/// the pool a worker was blocked, and the pool answered by waking or starting others and running its starvation gate:
/// in perf of a target omd during a 512 MiB move, ~9 % of its samples (issue #20). A thread of its own blocks plainly.
/// It ends after a while without work (a reader that is dropped without being disposed leaks no thread), and is
/// started again by the next load.
/// </summary>
internal sealed class ReadAheadThread<T>(TimeSpan? idleEnd = null) : IDisposable
{
    private readonly TimeSpan _idleEnd = idleEnd ?? TimeSpan.FromSeconds(2);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private Func<T>? _work;
    private TaskCompletionSource<T>? _done;
    private bool _running;
    private bool _disposed;

    /// <summary>Threads started so far (a new one after each idle end).</summary>
    public int ThreadsStarted { get; private set; }

    /// <summary>Starts <paramref name="load"/> on the thread; the task completes with its result or exception.</summary>
    public Task<T> Run(Func<T> load)
    {
        // An await's continuation must not run on this thread (it would block the next load, or join this thread):
        // it goes to the pool. A blocked caller (Wait, GetResult) and a tracer's wait handle are still set directly.
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_work is not null) throw new InvalidOperationException("a load is already running");
            (_work, _done) = (load, done);
            if (!_running)
            {
                _running = true;
                ThreadsStarted++;
                new Thread(Loop) { IsBackground = true, Name = "om-image-read" }.Start();
            }
        }
        _wake.Release();
        return done.Task;
    }

    private void Loop()
    {
        while (true)
        {
            var woken = _wake.Wait(_idleEnd);
            Func<T> work;
            TaskCompletionSource<T> done;
            lock (_gate)
            {
                if (_work is null)
                {
                    // Idle (or disposed): the next Run starts a new thread. A release that raced with this end is
                    // left in the semaphore and only makes that thread's first wait return at once.
                    if (woken && !_disposed) continue;
                    _running = false;
                    return;
                }
                (work, done) = (_work, _done!);
            }
            try
            {
                var result = work();
                lock (_gate) _work = null;
                done.SetResult(result);
            }
            catch (Exception e)
            {
                lock (_gate) _work = null;
                done.SetException(e);
            }
        }
    }

    /// <summary>Ends the thread once its current load (which the reader waits for first) is done.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _wake.Release();
    }
}
