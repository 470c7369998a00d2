using System.Diagnostics;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// How long this node's moves take, for ushering's look-ahead (<see cref="UsherSchedule"/>): every ushering move of
/// an own process is timed from the moment it has its turn to its end and counted in <see cref="MoveSpeed"/>; the
/// moves decided and not ended are handed to the policy with how long each has run, so a slow first move counts
/// before it ends. Load moves are not samples: with pre-copy the process runs on while they copy, and their time
/// says little about how long a frozen one takes. Everything here is under <c>_gate</c>.
/// </summary>
public sealed partial class BalanceLoop
{
    private readonly MoveSpeed _speed = new(options);

    /// <summary>A move decided and not ended: its image's bytes (0 for a placement: tiny), when it was decided, and
    /// when it got its turn.</summary>
    private sealed class Moving(ulong bytes, TimeSpan decided, bool sample = false)
    {
        /// <summary>An ushering move of an own process: timed, and a sample of the node's speed.</summary>
        public bool Sample { get; } = sample;
        public ulong Bytes { get; } = bytes;
        public TimeSpan Decided { get; } = decided;
        public TimeSpan? Started { get; set; }
    }

    /// <summary>Seconds ushering looks ahead for this node's biggest process, as of the last round (for the memory
    /// watch between rounds); the floor until the first round.</summary>
    private double _aheadHere = options.UsherLookahead.TotalSeconds;

    /// <summary>The move times for a round: the measured speed and the moves decided, those under way first.</summary>
    private MoveTimes MoveTimesNow(TimeSpan now)
    {
        lock (_gate)
            return _speed.Times([.. _moving.Values.OrderBy(m => m.Started ?? TimeSpan.MaxValue).ThenBy(m => m.Decided)
                .Select(m => ((double)m.Bytes, m.Started is { } started ? now - started : (TimeSpan?)null, m.Sample))]);
    }

    /// <summary>A move has its turn: from now on it is timed.</summary>
    private void Began(int pid)
    {
        lock (_gate)
            if (_moving.TryGetValue(pid, out var moving)) moving.Started = _clock.Elapsed;
    }

    /// <summary>An ushering move of an own process ended well: its time is a sample of this node's speed.</summary>
    private void Timed(ulong bytes, Stopwatch took)
    {
        lock (_gate)
            if (_speed.Add(bytes, took.Elapsed))
                LogMoveTimed(logger, bytes / 1048576.0, took.Elapsed.TotalSeconds, 1 / _speed.SecondsPerByte / 1048576.0);
    }

    /// <summary>For each memory decision, in the order the policy made them, the bytes promised to its target: its size
    /// and its growth until its move ends (the policy's own need), replayed on the same schedule.</summary>
    private static Dictionary<int, ulong> Promised(IReadOnlyList<Decision> decisions, IReadOnlyList<ProcessView> processes, MoveTimes times, BalancerOptions options)
    {
        var schedule = new UsherSchedule(times, options);
        var promised = new Dictionary<int, ulong>();
        foreach (var decision in decisions.Where(d => d.Reason == MoveReason.Memory))
        {
            if (processes.FirstOrDefault(p => p.Pid == decision.Pid) is not { } process) continue;
            promised[decision.Pid] = process.MemoryBytes + (ulong)(process.MemoryGrowth * schedule.Lookahead(process.MemoryBytes));
            schedule.Decided(process.MemoryBytes);
        }
        return promised;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer: an ushering move of {MiB:F0} MiB took {Seconds:F1} s; moves out of this node now counted at {Rate:F0} MiB/s")]
    private static partial void LogMoveTimed(ILogger logger, double miB, double seconds, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer: ushering looks {Ahead:F1} s ahead (moves out at {Rate:F0} MiB/s, {Pending} under way or waiting), growth here {Growth:F0} MiB/s")]
    private static partial void LogUsherAhead(ILogger logger, double ahead, double rate, int pending, double growth);
}
