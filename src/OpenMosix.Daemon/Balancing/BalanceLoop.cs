using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenMosix.Admin;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// omd's balancer: every interval, the real policy (<see cref="Balancer"/>) over this node's gossiped view and the
/// managed processes running here, its own and its guests (their CPU demand, running or waiting to run, measured from
/// /proc with decay; their age, memory, lock and cantmove reasons), and each decision carried out in the background:
/// an own process migrates, a guest's home is asked to move it on. A process is never decided on again while its move
/// runs; a node that refused it (for anything but memory, which comes and goes) is not chosen for it again. Between
/// rounds this node's memory is watched more often: when it runs short, ushering does not wait for the next round.
/// </summary>
public sealed partial class BalanceLoop(
    HomeMigration migration,
    ProcessRegistry registry,
    CheckpointEngine engine,
    Func<ushort> self,
    Func<ClusterView> view,
    Func<(ulong Total, ulong Free)> localMemory,
    GuestDirectory guests,
    BalancerOptions options,
    TimeSpan loadHalfLife,
    ILogger logger)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<int, Measured> _measured = [];
    private readonly Dictionary<int, ulong> _moving = [];
    private readonly RecentMoves _recent = new(loadHalfLife);
    private readonly Lock _gate = new();
    private double _growthHere;

    /// <summary>This node's mosctl switches: stay and lstay keep its processes here, block and quiet are gossiped.</summary>
    public NodeSwitches Switches { get; init; } = new();

    private sealed class Measured(DemandEstimator estimator, double cpuSeconds, TimeSpan at, TimeSpan started)
    {
        public DemandEstimator Estimator { get; } = estimator;
        public double CpuSeconds { get; set; } = cpuSeconds;
        public TimeSpan At { get; set; } = at;
        public TimeSpan Started { get; } = started;
        public TimeSpan? LastMove { get; set; }
        public ulong Resident { get; set; }
        public TimeSpan ResidentAt { get; set; }
        /// <summary>Bytes per second its memory grew by lately (an average over the last few rounds).</summary>
        public double Growth { get; set; }

        /// <summary>Takes a new reading of its resident memory, and returns it.</summary>
        public ulong Measure(ulong resident, TimeSpan now)
        {
            if (ResidentAt > TimeSpan.Zero && now > ResidentAt)
            {
                var rate = Math.Max(0, ((double)resident - Resident) / (now - ResidentAt).TotalSeconds);
                Growth = Growth * 0.5 + rate * 0.5;
            }
            Resident = resident;
            ResidentAt = now;
            return resident;
        }
        public HashSet<ushort> Refused { get; } = [];
    }

    /// <summary>How often memory is checked between rounds: a process growing by 100 MB/s takes this node's last
    /// tenth of a gigabyte in a second.</summary>
    public static readonly TimeSpan MemoryWatch = TimeSpan.FromMilliseconds(200);

    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval < MemoryWatch ? interval : MemoryWatch);
        var last = TimeSpan.Zero;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    if (_clock.Elapsed - last < interval - MemoryWatch / 2 && !ShortOfMemory()) continue;
                    last = _clock.Elapsed;
                    Round();
                }
                catch (Exception e) when (e is IOException or SyscallException or ProcessAccessException or InvalidOperationException)
                {
                    LogRoundFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // omd is stopping.
        }
    }

    /// <summary>This node's free memory, counting what moves under way will free, is below the ushering threshold.</summary>
    private bool ShortOfMemory()
    {
        var (total, free) = localMemory();
        return free + Leaving() - Volatile.Read(ref _growthHere) * options.UsherLookahead.TotalSeconds < total * options.UsherBelowFreeFraction;
    }

    private ulong Leaving()
    {
        lock (_gate) return _moving.Values.Aggregate(0UL, (sum, bytes) => sum + bytes);
    }

    /// <summary>One round: measure, decide, start the moves. Returns the decisions made (for tests).</summary>
    public IReadOnlyList<Decision> Round()
    {
        var now = _clock.Elapsed;
        var me = self();
        var own = Switches.Current;
        var (total, free) = localMemory();
        // This node's own figures fresh, not as last gossiped; memory that moves under way take away counts as free.
        var here = (long)Math.Min(free + Leaving(), long.MaxValue);
        var nodes = _recent.Adjust([.. view().Nodes.Select(ClusterViews.ToView)
            .Select(n => n.Id == me ? n with { Controls = n.Controls | ClusterViews.Controls(own), FreeMemory = here, TotalMemory = total } : n)], now);
        var processes = new List<ProcessView>();
        var byPid = new Dictionary<int, ManagedProcess>();
        lock (_gate)
        {
            foreach (var gone in _measured.Keys.Where(pid => !Signals.Exists(pid)).ToList()) _measured.Remove(gone);
            foreach (var process in registry.RunningAtHome().Concat(registry.Guests()))
            {
                if (_moving.ContainsKey(process.Pid) || Sample(process.Pid, now) is not { } measured) continue;
                byPid[process.Pid] = process;
                processes.Add(new ProcessView(process.Pid, me, process.State == ProcessState.Guest ? process.Home : me,
                    measured.Estimator.Demand, now - measured.Started, measured.Measure(ResidentBytes(process.Pid), now))
                {
                    MemoryGrowth = measured.Growth,
                    PassesHome = process.State == ProcessState.Guest,
                    Locked = process.Locked,
                    CantMove = engine.AnalyzeCantMove(process.Pid).Reasons.Count > 0,
                    SinceLastMove = measured.LastMove is { } last ? now - last : TimeSpan.MaxValue,
                    Refused = measured.Refused,
                });
            }
        }
        Volatile.Write(ref _growthHere, processes.Sum(p => p.MemoryGrowth));
        if (processes.Count == 0) return [];
        var decisions = Balancer.Decide(me, nodes, processes, options);
        foreach (var decision in decisions.Where(d => d.From == me && byPid.ContainsKey(d.Pid)))
        {
            var process = processes.First(p => p.Pid == decision.Pid);
            Start(byPid[decision.Pid], decision, process.Demand, process.MemoryBytes, now);
        }
        return decisions;
    }

    private void Start(ManagedProcess process, Decision decision, double demand, ulong memory, TimeSpan now)
    {
        lock (_gate) _moving[process.Pid] = memory;
        _recent.Add(decision.From, decision.To, Math.Min(demand, 1), now);
        var reason = decision.Reason.ToString().ToLowerInvariant();
        var guest = process.State == ProcessState.Guest;
        LogDecided(logger, guest ? "asking home to move guest" : "moving process", process.Pid, decision.To, reason, decision.Gain);
        _ = Task.Run(async () =>
        {
            string? failure = null;
            try
            {
                if (guest) failure = await guests.RequestMoveAsync(process.Pid, decision.To, reason).ConfigureAwait(false);
                // Ushering freezes at once and copies once: pre-copy would let the process go on filling this node
                // for the rounds it takes, and the memory is only freed when the move ends.
                else await migration.MigrateAsync(process, decision.To, CancellationToken.None,
                    precopy: decision.Reason == MoveReason.Memory ? false : null).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException or ArgumentException)
            {
                failure = e.Message;
            }
            finally
            {
                lock (_gate)
                {
                    _moving.Remove(process.Pid);
                    if (_measured.TryGetValue(process.Pid, out var measured))
                    {
                        measured.LastMove = _clock.Elapsed;
                        if (failure is not null && failure.Contains("refused", StringComparison.Ordinal)
                                                && !failure.Contains("not enough memory", StringComparison.Ordinal))
                            measured.Refused.Add(decision.To);
                    }
                }
                if (failure is not null) LogMoveFailed(logger, process.Pid, decision.To, failure);
            }
        });
    }

    /// <summary>
    /// Feeds the process's demand since the last round into its estimator (the first round only starts it): the time
    /// it ran plus the time it waited runnable for a CPU (/proc/PID/schedstat). CPU time alone would call a CPU-bound
    /// process sharing an over-committed node with fifteen others a sixteenth of a CPU, and it would never move.
    /// </summary>
    private Measured? Sample(int pid, TimeSpan now)
    {
        double cpu;
        try
        {
            var fields = File.ReadAllText(ProcFs.Path(pid, "schedstat")).Split(' ');
            cpu = (double.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture)
                   + double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture)) / 1e9;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
        if (!_measured.TryGetValue(pid, out var measured))
        {
            var first = new Measured(NewEstimator(pid), cpu, now, now);
            first.Measure(ResidentBytes(pid), now);
            _measured[pid] = first;
            return null;
        }
        measured.Estimator.Add(TimeSpan.FromSeconds(cpu - measured.CpuSeconds), now - measured.At);
        measured.CpuSeconds = cpu;
        measured.At = now;
        return measured;
    }

    private static ulong ResidentBytes(int pid)
    {
        try
        {
            return (ulong)ProcFs.ReadResidentBytes(pid);
        }
        catch (IOException)
        {
            // Gone meanwhile: nothing to move.
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer: {Action} {Pid} to node {Node} ({Reason}, expected gain {Gain:F1} s)")]
    private static partial void LogDecided(ILogger logger, string action, int pid, int node, string reason, double gain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer: process {Pid} did not move to node {Node}: {Reason}")]
    private static partial void LogMoveFailed(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer round failed: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string reason);
}
