using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// The one thread that issues every ptrace request and waitpid for the engine's tracees (ptrace binds a tracee to
/// the thread that attached it). Work is queued to it and the caller blocks for the result.
/// </summary>
/// <remarks>
/// Brief work (a few ptrace calls: thaw a process, turn one into a deputy, end one) has a queue of its own, served
/// first and also while a long job copies pages <see cref="Aside{T}">aside</see>. Without that, the commit of one
/// move waited for the whole page copy of the next: a process ushered off a node short of memory kept holding its
/// memory there for seconds after its copy was running elsewhere.
/// </remarks>
internal sealed class TracerThread : IDisposable
{
    private readonly BlockingCollection<Action> _brief = new();
    private readonly BlockingCollection<Action> _long = new();
    private readonly BlockingCollection<Action>[] _both;
    private readonly HashSet<int> _busy = [];
    private readonly Thread _thread;

    public TracerThread()
    {
        _both = [_brief, _long];
        _thread = new Thread(Loop) { IsBackground = true, Name = "om-tracer" };
        _thread.Start();
    }

    public bool IsCurrent => Thread.CurrentThread == _thread;

    /// <summary>Runs <paramref name="work"/> on the tracer thread, after the work queued before it.</summary>
    public T Run<T>(Func<T> work) => Enqueue(_long, work, busyPid: null);

    public void Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    /// <summary>
    /// Runs short work on process <paramref name="pid"/> (milliseconds: no page copying, no waiting on anything but
    /// that process) ahead of long work, also while a long job copies pages (<see cref="Aside{T}"/>,
    /// <see cref="ServeBrief"/>). While a long job has <paramref name="pid"/> <see cref="Busy">busy</see>, the work
    /// waits until that job has ended.
    /// </summary>
    public T RunBrief<T>(int pid, Func<T> work) => Enqueue(_brief, work, pid);

    public void RunBrief(int pid, Action work) => RunBrief(pid, () =>
    {
        work();
        return true;
    });

    /// <summary>Marks <paramref name="pid"/> as worked on by the long job running now, until disposed.</summary>
    public IDisposable Busy(int pid)
    {
        if (!IsCurrent) throw new InvalidOperationException("Busy is for a job running on the tracer thread");
        _busy.Add(pid);
        return new BusyMark(this, pid);
    }

    /// <summary>Whether a long job is working on <paramref name="pid"/> (tracer thread only).</summary>
    public bool IsBusy(int pid) => _busy.Contains(pid);

    private sealed class BusyMark(TracerThread tracer, int pid) : IDisposable
    {
        public void Dispose() => tracer._busy.Remove(pid);
    }

    /// <summary>
    /// Called on the tracer thread by a long job between steps (a restore between page runs): runs the brief work
    /// queued by now, then returns.
    /// </summary>
    public void ServeBrief()
    {
        if (!IsCurrent) throw new InvalidOperationException("ServeBrief is for a job running on the tracer thread");
        for (var waiting = _brief.Count; waiting > 0 && _brief.TryTake(out var brief); waiting--) brief();
    }

    /// <summary>
    /// Called on the tracer thread by a long job: runs <paramref name="work"/>, which must make no ptrace request and
    /// no waitpid (copying a frozen process's pages with process_vm_readv, writing them to a link), on a thread of its
    /// own, and meanwhile serves brief work and the idle watch here. Returns when <paramref name="work"/> has.
    /// </summary>
    public T Aside<T>(Func<T> work)
    {
        if (!IsCurrent) throw new InvalidOperationException("Aside is for a job running on the tracer thread");
        var outcome = new Outcome<T>();
        using var done = new ManualResetEventSlim();
        var helper = new Thread(() =>
        {
            outcome.Run(work);
            done.Set();
            Wake();
        }) { IsBackground = true, Name = "om-tracer-aside" };
        helper.Start();
        while (!done.IsSet)
        {
            Action? brief;
            try
            {
                if (_brief.IsCompleted)
                {
                    // Disposing: finish the long job, nothing else.
                    done.Wait();
                    break;
                }
                if (!_brief.TryTake(out brief, IdleInterval)) brief = done.IsSet ? null : Idle;
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                // Disposing: finish the long job, nothing else.
                done.Wait();
                break;
            }
            brief?.Invoke();
        }
        helper.Join();
        return outcome.Result();
    }

    /// <summary>
    /// Called on the tracer thread by a long job that must wait for <paramref name="pending"/> (a restore waiting for
    /// the next section of its image to arrive from the sender): serves brief work until it completes.
    /// </summary>
    public void WaitServingBrief(Task pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (!IsCurrent) throw new InvalidOperationException("WaitServingBrief is for a job running on the tracer thread");
        do ServeBrief();
        while (!pending.IsCompleted && !((IAsyncResult)pending).AsyncWaitHandle.WaitOne(IdleInterval));
    }

    /// <summary>Ends the tracer thread's wait for brief work at once (a no-op item): the long job it serves can go on.</summary>
    private void Wake()
    {
        try
        {
            _brief.Add(static () => { });
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Disposing: the wait ends by itself.
        }
    }

    /// <summary>Runs on the tracer thread whenever no work has come for <see cref="IdleInterval"/> (deputy watch).</summary>
    public Action? Idle { get; set; }

    /// <summary>Whether <see cref="Idle"/> has anything to watch now; asked on the tracer thread before each wait.</summary>
    public Func<bool>? IdleWanted { get; set; }

    public static readonly TimeSpan IdleInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Queues <paramref name="work"/> and waits for it; work on a <paramref name="busyPid"/> that a long
    /// job has busy goes back to the long queue, to run after that job.</summary>
    private T Enqueue<T>(BlockingCollection<Action> queue, Func<T> work, int? busyPid)
    {
        if (IsCurrent) return work();
        var outcome = new Outcome<T>();
        using var done = new ManualResetEventSlim();
        Action? run = null;
        run = () =>
        {
            if (busyPid is { } pid && _busy.Contains(pid) && !_long.IsAddingCompleted)
            {
                // After the job that has it busy: the main loop takes long work only between jobs.
                _long.Add(run!);
                return;
            }
            outcome.Run(work);
            done.Set();
        };
        queue.Add(run);
        done.Wait();
        return outcome.Result();
    }

    /// <summary>What work run on one thread gave, or threw, handed to the thread that waited for it.</summary>
    private sealed class Outcome<T>
    {
        private T? _result;
        private ExceptionDispatchInfo? _failure;

        public void Run(Func<T> work)
        {
            try
            {
                _result = work();
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
        }

        public T Result()
        {
            _failure?.Throw();
            return _result!;
        }
    }

    private void Loop()
    {
        while (true)
        {
            Action? work;
            try
            {
                if (_brief.IsCompleted && _long.IsCompleted) break;
                // Brief work first: TryTakeFromAny tries the collections in order. With nothing to watch, the thread
                // sleeps until work comes (an idle omd must not wake 50 times a second for nothing).
                var wait = IdleWanted?.Invoke() == false ? Timeout.InfiniteTimeSpan : IdleInterval;
                if (BlockingCollection<Action>.TryTakeFromAny(_both, out work, wait) < 0) work = Idle;
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or ArgumentException)
            {
                // ArgumentException: every collection is marked complete for adding and empty (disposing).
                break;
            }
            work?.Invoke();
        }
    }

    public void Dispose()
    {
        _brief.CompleteAdding();
        _long.CompleteAdding();
        // Disposed from its own thread (an event handler's continuation): the loop ends by itself after this work.
        if (IsCurrent) return;
        _thread.Join();
        _brief.Dispose();
        _long.Dispose();
    }
}
