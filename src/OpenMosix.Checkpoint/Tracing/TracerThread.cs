using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// The one thread that issues every ptrace request and waitpid for the engine's tracees (ptrace binds a tracee to
/// the thread that attached it). Work is queued to it and the caller blocks for the result.
/// </summary>
internal sealed class TracerThread : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;

    public TracerThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "om-tracer" };
        _thread.Start();
    }

    public bool IsCurrent => Thread.CurrentThread == _thread;

    public T Run<T>(Func<T> work)
    {
        if (IsCurrent) return work();
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        using var done = new ManualResetEventSlim();
        _queue.Add(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        failure?.Throw();
        return result!;
    }

    public void Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    /// <summary>Runs on the tracer thread whenever no work has come for <see cref="IdleInterval"/> (deputy watch).</summary>
    public Action? Idle { get; set; }

    public static readonly TimeSpan IdleInterval = TimeSpan.FromMilliseconds(20);

    private void Loop()
    {
        while (true)
        {
            Action? work;
            try
            {
                if (_queue.IsCompleted) break;
                if (!_queue.TryTake(out work, IdleInterval)) work = Idle;
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                break;
            }
            work?.Invoke();
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        // Disposed from its own thread (an event handler's continuation): the loop ends by itself after this work.
        if (IsCurrent) return;
        _thread.Join();
        _queue.Dispose();
    }
}
