namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>What one input did: accepted, refused (the exception), or found a bug; with its time and allocation.</summary>
public readonly record struct Outcome(bool Accepted, Exception? Error, TimeSpan Elapsed, long Allocated, bool TimedOut);

/// <summary>
/// Runs each input on a worker thread of its own while the caller watches the clock: an input that loops forever is
/// reported once it has run the time limit on the CPU instead of hanging the test run (.NET cannot abort a thread; the stuck worker is a
/// background thread and is left behind once the run has failed).
/// </summary>
public sealed class Sandbox : IDisposable
{
    private readonly SemaphoreSlim _start = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private Func<bool>? _job;
    private Outcome _outcome;
    private bool _stuck;

    public Sandbox()
    {
        var thread = new Thread(Work) { IsBackground = true, Name = "fuzz input", };
        thread.Start();
        SpinWait.SpinUntil(() => _workerTid != 0);
    }

    public Outcome Run(Func<bool> job, TimeSpan limit)
    {
        if (_stuck) throw new InvalidOperationException("the sandbox's worker is stuck in an earlier input");
        _job = job;
        var cpuBefore = WorkerCpuTime();
        _start.Release();
        // The limit is what the input may run, not how long it may wait for a core: on a loaded machine (CI runs the
        // lab beside this) an input can be kept off the CPU for longer than the limit. An input that keeps the worker
        // waiting longer than the limit is stuck once its own CPU time reaches the limit, or after a wall-clock cap.
        var wall = System.Diagnostics.Stopwatch.StartNew();
        while (!_done.Wait(limit))
        {
            if (WorkerCpuTime() - cpuBefore < limit && wall.Elapsed < limit * WallClockCapFactor) continue;
            _stuck = true;
            return new Outcome(false, null, wall.Elapsed, 0, TimedOut: true);
        }
        return _outcome;
    }

    /// <summary>How many times the limit an input may take by the wall clock while it has not run the limit.</summary>
    private const int WallClockCapFactor = 15;

    private volatile int _workerTid;

    /// <summary>The worker thread's user and system time (from /proc/self/task/TID/stat, in clock ticks of 10 ms).</summary>
    private TimeSpan WorkerCpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/self/task/{_workerTid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is the state (field 3 of stat): utime and stime are fields 14 and 15.
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromMilliseconds(ticks * 10);
        }
        catch (IOException)
        {
            return TimeSpan.MaxValue;
        }
    }

    public void Dispose()
    {
        if (_stuck) return;
        _job = null;
        _start.Release();
    }

    private void Work()
    {
        // "/proc/thread-self" names this thread as PID/task/TID.
        _workerTid = int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!), System.Globalization.CultureInfo.InvariantCulture);
        while (true)
        {
            _start.Wait();
            if (_job is not { } job) return;
            var allocated = GC.GetTotalAllocatedBytes();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var accepted = job();
                _outcome = new Outcome(accepted, null, clock.Elapsed, GC.GetTotalAllocatedBytes() - allocated, false);
            }
#pragma warning disable CA1031 // Every exception is the finding or the refusal: the oracle judges it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _outcome = new Outcome(false, e, clock.Elapsed, GC.GetTotalAllocatedBytes() - allocated, false);
            }
            _done.Release();
        }
    }
}
