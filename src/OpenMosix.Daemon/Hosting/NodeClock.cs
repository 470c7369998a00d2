using System.Diagnostics;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// One thread for omd's periodic work (the balancer's memory watch and rounds, gossip rounds, the /run/openmosix
/// views, the dashboard's history). Each job had a timer of its own, and each tick woke .NET's timer thread and then
/// one or more thread-pool workers: 30–50 µs of CPU a wakeup, far more than the work itself, so that an idle node's
/// omd woke about 75 times a second for 9 ticks (docs/performance.md, "What wakes an idle omd"). Here every period is
/// counted from one origin, so jobs whose periods divide each other fall on the same instants and run one after the
/// other; between instants the thread sleeps. Jobs must be short and must not block: a slow one delays the rest. A
/// job that throws is logged and runs again at its next instant; the clock itself never stops before omd does.
/// </summary>
public sealed partial class NodeClock(ILogger logger)
{
    private readonly List<Job> _jobs = [];
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <summary>Runs <paramref name="work"/> when the clock starts and then every <paramref name="period"/>.</summary>
    public void Every(string name, TimeSpan period, Action work)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        lock (_jobs) _jobs.Add(new Job(name, (long)(period.TotalSeconds * Stopwatch.Frequency), work));
    }

    /// <summary>How many times the clock's thread has woken to run what was due: one wakeup per instant, whatever
    /// number of jobs fell on it.</summary>
    public long Instants => Interlocked.Read(ref _instants);

    private long _instants;

    /// <summary>Starts the clock's thread; the task ends when <paramref name="cancel"/> fires and the job under way ends.</summary>
    public Task RunAsync(CancellationToken cancel)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Run(cancel);
            ended.SetResult();
        }) { IsBackground = true, Name = "omd clock" };
        thread.Start();
        return ended.Task;
    }

    private void Run(CancellationToken cancel)
    {
        Job[] jobs;
        lock (_jobs) jobs = [.. _jobs];
        var now = Stopwatch.GetTimestamp();
        foreach (var job in jobs) job.Due = now;
        while (!cancel.IsCancellationRequested)
        {
            now = Stopwatch.GetTimestamp();
            var next = long.MaxValue;
            foreach (var job in jobs) next = Math.Min(next, job.Due);
            if (next == long.MaxValue)
            {
                cancel.WaitHandle.WaitOne();
                return;
            }
            if (next > now)
            {
                // Whole milliseconds, rounded up: a wait handle truncates, and a wait of 0.9 ms became a spin.
                var milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(Stopwatch.GetElapsedTime(now, next).TotalMilliseconds));
                if (cancel.WaitHandle.WaitOne(milliseconds)) return;
                continue;
            }
            Interlocked.Increment(ref _instants);
            foreach (var job in jobs)
            {
                if (job.Due > now) continue;
                try
                {
                    job.Work();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogJobFailed(logger, job.Name, e.Message);
                }
                job.Due = NextInstant(job.Period, Stopwatch.GetTimestamp());
            }
        }
    }

    /// <summary>The first multiple of <paramref name="period"/> from the origin after <paramref name="now"/>: ticks
    /// missed while a job ran long are skipped, not run in a burst.</summary>
    private long NextInstant(long period, long now) => _origin + ((now - _origin) / period + 1) * period;

    private sealed class Job(string name, long period, Action work)
    {
        public string Name { get; } = name;
        public long Period { get; } = period;
        public Action Work { get; } = work;
        public long Due { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "periodic {Job} failed: {Reason}")]
    private static partial void LogJobFailed(ILogger logger, string job, string reason);
}
