using System.Diagnostics;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Engine;
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
    IProcessMover migration,
    ProcessRegistry registry,
    IMigrationEngine engine,
    Func<ushort> self,
    Func<ClusterView> view,
    Func<(ulong Total, ulong Free)> localMemory,
    GuestDirectory guests,
    BalancerOptions options,
    TimeSpan loadHalfLife,
    ILogger logger)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastRound;
    private readonly Dictionary<int, Measured> _measured = [];
    private readonly Dictionary<int, Moving> _moving = [];
    private readonly RecentMoves _recent = new(loadHalfLife);
    private readonly Lock _gate = new();
    private readonly Lock _placing = new();
    private readonly SemaphoreSlim _turns = new(Math.Max(1, options.MaxConcurrentMoves));
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

    /// <summary>How often <see cref="Tick"/> must run for rounds every <paramref name="interval"/> and the memory watch.</summary>
    public static TimeSpan TickPeriod(TimeSpan interval) => interval < MemoryWatch ? interval : MemoryWatch;

    /// <summary>
    /// Called every <see cref="TickPeriod"/> (omd's <see cref="Hosting.NodeClock"/>): a round when
    /// <paramref name="interval"/> has passed since the last one, or at once when this node runs short of memory.
    /// </summary>
    public void Tick(TimeSpan interval)
    {
        try
        {
            if (_clock.Elapsed - _lastRound < interval - MemoryWatch / 2 && !ShortOfMemory()) return;
            _lastRound = _clock.Elapsed;
            Round();
        }
        catch (Exception e) when (e is IOException or SyscallException or ProcessAccessException or InvalidOperationException)
        {
            LogRoundFailed(logger, e.Message);
        }
    }

    /// <summary>
    /// The cluster as the balancer sees it: the gossiped views with recent moves to them that the averages do not show
    /// yet, and this node with its switches and its figures fresh, not as last gossiped: its memory (what moves under
    /// way take away counts as free) and its load, <paramref name="hereLoad"/>, the demand of the managed processes
    /// here now. The gossiped average lags by seconds, both after a burst of starts and after moves out; processes
    /// not started by om run are not in it (docs/balancing.md).
    /// </summary>
    private IReadOnlyList<NodeView> Views(ushort me, TimeSpan now, double hereLoad)
    {
        var own = Switches.Current;
        var (total, free) = localMemory();
        var here = (long)Math.Min(free + Leaving(), long.MaxValue);
        return _recent.Adjust([.. view().Nodes.Select(ClusterViews.ToView)], now)
            .Select(n => n.Id == me
                ? n with { Controls = n.Controls | ClusterViews.Controls(own), FreeMemory = here, TotalMemory = total, Load = hereLoad }
                : n)
            .ToList();
    }

    /// <summary>
    /// A process just registered (om run, no placement asked for), or a managed process's child that exec'd a program
    /// worth moving (<see cref="ChildPlacement"/>): if this node has no CPU free for it, it starts
    /// where it runs fastest (<see cref="StartPlacement"/>), moved as soon as it has exec'd its program. This node's
    /// load is counted fresh (its managed processes here now): the decaying average lags a burst of starts by seconds.
    /// Placements are decided one at a time, each counted before the next, so a burst is spread, not sent to one node.
    /// </summary>
    public void Started(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (process.Locked || process.Hint == JobHint.Io) return;
        ushort to;
        RecentMoves.Move move;
        lock (_placing)
        {
            var now = _clock.Elapsed;
            var me = self();
            int here;
            lock (_gate)
                here = registry.RunningAtHome().Concat(registry.Guests())
                    .Count(p => p.Pid != process.Pid && !_moving.ContainsKey(p.Pid) && Runnable(p.Pid));
            if (StartPlacement.Choose(me, Views(me, now, here), options) is not { } chosen) return;
            to = chosen;
            move = _recent.Add(to, 1);
            lock (_gate) _moving[process.Pid] = new Moving(0, now);
        }
        LogPlaced(logger, process.Pid, to);
        _ = Task.Run(async () =>
        {
            try
            {
                await HomeMigration.WaitForExecAsync(process).ConfigureAwait(false);
                await _turns.WaitAsync().ConfigureAwait(false);
                Began(process.Pid);
                try
                {
                    // Just started, it is small: one short freeze moves it; pre-copy rounds would only add to the wait.
                    var took = Stopwatch.StartNew();
                    await migration.MigrateAsync(process, to, CancellationToken.None, precopy: false).ConfigureAwait(false);
                    lock (_gate) _smallMoveCost = _smallMoveCost * 0.7 + took.Elapsed * 0.3;
                }
                finally
                {
                    _turns.Release();
                }
                move.Landed(_clock.Elapsed);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException or ArgumentException)
            {
                move.Failed();
                LogMoveFailed(logger, process.Pid, to, e.Message);
            }
            finally
            {
                lock (_gate) _moving.Remove(process.Pid);
            }
        });
    }

    /// <summary>What moving a process just started has cost lately (an average of the last placements; 50 ms before
    /// the first): the yardstick for whether a short-lived program is worth moving (<see cref="ExecPlacement"/>).</summary>
    public TimeSpan SmallMoveCost
    {
        get
        {
            lock (_gate) return _smallMoveCost;
        }
    }

    private TimeSpan _smallMoveCost = TimeSpan.FromMilliseconds(50);

    /// <summary>Running or waiting for a CPU (or in an uninterruptible wait), as opposed to sleeping: a shell waiting
    /// for its jobs is no load.</summary>
    private static bool Runnable(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).State is 'R' or 'D';
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    /// <summary>This node's free memory, counting what moves under way will free, is below the ushering threshold.</summary>
    private bool ShortOfMemory()
    {
        var (total, free) = localMemory();
        return free + Leaving() - Volatile.Read(ref _growthHere) * Volatile.Read(ref _aheadHere) < total * options.UsherBelowFreeFraction;
    }

    private ulong Leaving()
    {
        lock (_gate) return _moving.Values.Aggregate(0UL, (sum, moving) => sum + moving.Bytes);
    }

    /// <summary>One round: measure, decide, start the moves. Returns the decisions made (for tests).</summary>
    public IReadOnlyList<Decision> Round()
    {
        var now = _clock.Elapsed;
        var me = self();
        var processes = new List<ProcessView>();
        var unmeasured = 0;
        var byPid = new Dictionary<int, ManagedProcess>();
        lock (_gate)
        {
            foreach (var gone in _measured.Keys.Where(pid => !Signals.Exists(pid)).ToList()) _measured.Remove(gone);
            foreach (var process in registry.RunningAtHome().Concat(registry.Guests()))
            {
                if (_moving.ContainsKey(process.Pid)) continue;
                if (Sample(process.Pid, now, arrived: process.State == ProcessState.Guest) is not { } measured)
                {
                    // Just started: taken for CPU-bound until measured, as placement at start takes it.
                    unmeasured++;
                    continue;
                }
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
        var times = MoveTimesNow(now);
        var growth = processes.Sum(p => p.MemoryGrowth);
        var ahead = new UsherSchedule(times, options).Lookahead(processes.Count == 0 ? 0 : processes.Max(p => p.MemoryBytes));
        Volatile.Write(ref _growthHere, growth);
        Volatile.Write(ref _aheadHere, ahead);
        if (processes.Count == 0) return [];
        var nodes = Views(me, now, processes.Sum(p => Math.Min(p.Demand, 1)) + unmeasured);
        var decisions = Balancer.Decide(me, nodes, processes, options, times);
        // The target is promised its size and the growth ushering counts on (Balancer.Usher's need).
        var promised = Promised(decisions, processes, times, options);
        if (promised.Count > 0) LogUsherAhead(logger, ahead, 1 / times.SecondsPerByte / 1048576.0, times.Pending.Count, growth / 1048576.0);
        foreach (var decision in decisions.Where(d => d.From == me && byPid.ContainsKey(d.Pid)))
        {
            var process = processes.First(p => p.Pid == decision.Pid);
            Start(byPid[decision.Pid], decision, process.Demand, process.MemoryBytes, promised.GetValueOrDefault(decision.Pid, process.MemoryBytes));
        }
        return decisions;
    }

    private void Start(ManagedProcess process, Decision decision, double demand, ulong memory, ulong promised)
    {
        var guest = process.State == ProcessState.Guest;
        var sample = !guest && decision.Reason == MoveReason.Memory;
        lock (_gate) _moving[process.Pid] = new Moving(memory, _clock.Elapsed, sample);
        var move = _recent.Add(decision.To, Math.Min(demand, 1), (long)Math.Min(promised, long.MaxValue));
        var reason = decision.Reason.ToString().ToLowerInvariant();
        LogDecided(logger, guest ? "asking home to move guest" : "moving process", process.Pid, decision.To, reason, decision.Gain);
        _ = Task.Run(async () =>
        {
            string? failure = null;
            await _turns.WaitAsync().ConfigureAwait(false);
            Began(process.Pid);
            var took = Stopwatch.StartNew();
            try
            {
                if (guest) failure = await guests.RequestMoveAsync(process.Pid, decision.To, reason).ConfigureAwait(false);
                // Ushering freezes at once and copies once: pre-copy would let the process go on filling this node
                // for the rounds it takes, and the memory is only freed when the move ends.
                else await migration.MigrateAsync(process, decision.To, CancellationToken.None,
                    precopy: decision.Reason == MoveReason.Memory ? false : null).ConfigureAwait(false);
                if (sample) Timed(memory, took);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException or ArgumentException)
            {
                failure = e.Message;
            }
            finally
            {
                _turns.Release();
                if (failure is null) move.Landed(_clock.Elapsed);
                else move.Failed();
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
    private Measured? Sample(int pid, TimeSpan now, bool arrived)
    {
        double cpu;
        try
        {
            cpu = SchedStat.Read(pid).Wanting.TotalSeconds;
        }
        catch (Exception e) when (e is IOException or FormatException or ProcessAccessException or UnauthorizedAccessException)
        {
            return null;
        }
        if (!_measured.TryGetValue(pid, out var measured))
        {
            // A guest has just been moved here: the cooldown counts from its arrival, or nodes would pass it on at once.
            var first = new Measured(NewEstimator(pid), cpu, now, now) { LastMove = arrived ? now : null };
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

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer: process {Pid} starts on node {Node} (no CPU free here)")]
    private static partial void LogPlaced(ILogger logger, int pid, int node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer: process {Pid} did not move to node {Node}: {Reason}")]
    private static partial void LogMoveFailed(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer round failed: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string reason);
}
