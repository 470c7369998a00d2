namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>What one input did: accepted, refused (the exception), or found a bug; with its time and allocation.</summary>
public readonly record struct Outcome(bool Accepted, Exception? Error, TimeSpan Elapsed, long Allocated, bool TimedOut);

/// <summary>
/// Runs each input on a worker thread of its own while the caller watches the clock: an input that loops forever is
/// reported after the time limit instead of hanging the test run (.NET cannot abort a thread; the stuck worker is a
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
    }

    public Outcome Run(Func<bool> job, TimeSpan limit)
    {
        if (_stuck) throw new InvalidOperationException("the sandbox's worker is stuck in an earlier input");
        _job = job;
        _start.Release();
        if (_done.Wait(limit)) return _outcome;
        _stuck = true;
        return new Outcome(false, null, limit, 0, TimedOut: true);
    }

    public void Dispose()
    {
        if (_stuck) return;
        _job = null;
        _start.Release();
    }

    private void Work()
    {
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
