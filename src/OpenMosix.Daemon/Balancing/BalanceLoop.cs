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
/// managed processes running here at home (their CPU demand, running or waiting to run, measured from /proc with decay; their age, memory, lock
/// and cantmove reasons), and each decision carried out as a migration in the background. A process is never
/// decided on again while its move runs; a node that refused it is not chosen for it again.
/// </summary>
public sealed partial class BalanceLoop(
    HomeMigration migration,
    ProcessRegistry registry,
    CheckpointEngine engine,
    Func<ushort> self,
    Func<ClusterView> view,
    BalancerOptions options,
    TimeSpan loadHalfLife,
    ILogger logger)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<int, Measured> _measured = [];
    private readonly HashSet<int> _moving = [];
    private readonly RecentMoves _recent = new(loadHalfLife);
    private readonly Lock _gate = new();

    /// <summary>This node's mosctl switches: stay and lstay keep its processes here, block and quiet are gossiped.</summary>
    public NodeSwitches Switches { get; init; } = new();

    private sealed class Measured(DemandEstimator estimator, double cpuSeconds, TimeSpan at, TimeSpan started)
    {
        public DemandEstimator Estimator { get; } = estimator;
        public double CpuSeconds { get; set; } = cpuSeconds;
        public TimeSpan At { get; set; } = at;
        public TimeSpan Started { get; } = started;
        public TimeSpan? LastMove { get; set; }
        public HashSet<ushort> Refused { get; } = [];
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
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

    /// <summary>One round: measure, decide, start the moves. Returns the decisions made (for tests).</summary>
    public IReadOnlyList<Decision> Round()
    {
        var now = _clock.Elapsed;
        var me = self();
        var own = Switches.Current;
        var nodes = _recent.Adjust([.. view().Nodes.Select(ClusterViews.ToView).Select(n => n.Id == me ? n with { Controls = n.Controls | ClusterViews.Controls(own) } : n)], now);
        var processes = new List<ProcessView>();
        var byPid = new Dictionary<int, ManagedProcess>();
        lock (_gate)
        {
            foreach (var gone in _measured.Keys.Where(pid => !Signals.Exists(pid)).ToList()) _measured.Remove(gone);
            foreach (var process in registry.RunningAtHome())
            {
                if (_moving.Contains(process.Pid) || Sample(process.Pid, now) is not { } measured) continue;
                byPid[process.Pid] = process;
                processes.Add(new ProcessView(process.Pid, me, me, measured.Estimator.Demand, now - measured.Started, ResidentBytes(process.Pid))
                {
                    Locked = process.Locked,
                    CantMove = engine.AnalyzeCantMove(process.Pid).Reasons.Count > 0,
                    SinceLastMove = measured.LastMove is { } last ? now - last : TimeSpan.MaxValue,
                    Refused = measured.Refused,
                });
            }
        }
        if (processes.Count == 0) return [];
        var decisions = Balancer.Decide(me, nodes, processes, options);
        foreach (var decision in decisions.Where(d => d.From == me && byPid.ContainsKey(d.Pid)))
            Start(byPid[decision.Pid], decision, processes.First(p => p.Pid == decision.Pid).Demand, now);
        return decisions;
    }

    private void Start(ManagedProcess process, Decision decision, double demand, TimeSpan now)
    {
        lock (_gate) _moving.Add(process.Pid);
        _recent.Add(decision.From, decision.To, Math.Min(demand, 1), now);
        LogDecided(logger, process.Pid, decision.To, decision.Reason.ToString().ToLowerInvariant(), decision.Gain);
        _ = Task.Run(async () =>
        {
            try
            {
                await migration.MigrateAsync(process, decision.To, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException or ArgumentException)
            {
                LogMoveFailed(logger, process.Pid, decision.To, e.Message);
                lock (_gate)
                    if (_measured.TryGetValue(process.Pid, out var measured) && e.Message.Contains("refused", StringComparison.Ordinal))
                        measured.Refused.Add(decision.To);
            }
            finally
            {
                lock (_gate)
                {
                    _moving.Remove(process.Pid);
                    if (_measured.TryGetValue(process.Pid, out var measured)) measured.LastMove = _clock.Elapsed;
                }
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
            _measured[pid] = new Measured(NewEstimator(pid), cpu, now, now);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer: moving process {Pid} to node {Node} ({Reason}, expected gain {Gain:F1} s)")]
    private static partial void LogDecided(ILogger logger, int pid, int node, string reason, double gain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer: process {Pid} did not move to node {Node}: {Reason}")]
    private static partial void LogMoveFailed(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "balancer round failed: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string reason);
}
