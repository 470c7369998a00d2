using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Policy;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// Placement at exec for the descendants of managed processes: a child that execs a program is sent where it runs
/// fastest while its image is tiny, so `make -j` and job launchers spread at once instead of waiting to be measured.
/// When depends on the program's history on this node (<see cref="ExecPlacement"/>, the rule om sim uses too):
/// long-lived programs go at once (after a glance that tells a CPU-bound run from a sleeper), short-lived ones stay,
/// unknown ones go once they have outlived their move's cost; each only if it wanted a CPU most of the time since its
/// exec (a sleeping process gains nothing from a faster node). Where: the wishes inherited
/// from om run (--on, --among) if any, else the start placement of the balancer (only where this node has no CPU
/// free). om run's own process is placed by its registration, not here; processes adopted at their exec by the
/// [manage] policy are placed here like children.
/// </summary>
public sealed partial class ChildPlacement(ProcessRegistry registry, Action<ManagedProcess> placeByLoad,
    Action<ManagedProcess, RunRequest> placeAsAsked, Func<TimeSpan> moveCost, Func<TimeSpan> now, BalancerOptions options, ILogger logger)
{
    private readonly ProgramLifetimes _lifetimes = new();
    private readonly Lock _gate = new();

    /// <summary>A managed process's program ended after running <paramref name="lifetime"/>.</summary>
    public void Ended(string program, TimeSpan lifetime)
    {
        lock (_gate) _lifetimes.Record(program, lifetime);
    }

    public TimeSpan? Typical(string program)
    {
        lock (_gate) return _lifetimes.Typical(program);
    }

    /// <summary>A managed process exec'd (or was found): decides whether and when it is placed, and schedules it.
    /// Returns the decision (null: not a process placed at exec: om run's own, locked, an I/O job, kept home).</summary>
    public ExecVerdict? Execed(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if ((process.ParentPid == 0 && !process.Adopted) || process.Locked || process.Hint == JobHint.Io
            || process.Request is { Home: true } || process.Program is not { } program) return null;
        var age = process.ExecutedAt is { } at ? now() - at : TimeSpan.Zero;
        var verdict = ExecPlacement.Decide(Typical(program), age, moveCost(), options);
        if (verdict.Timing == ExecTiming.Never)
        {
            LogTooShort(logger, process.Pid, program);
            return verdict;
        }
        var wait = verdict.Timing == ExecTiming.Now ? ExecPlacement.Glance - age : verdict.Wait;
        _ = Task.Run(async () =>
        {
            if (wait > TimeSpan.Zero) await Task.Delay(wait).ConfigureAwait(false);
            if (!StillWorthPlacing(process, program)) return;
            if (process.Request is { } asked && (asked.On != 0 || asked.Among.Count > 0)) placeAsAsked(process, asked);
            else placeByLoad(process);
        });
        return verdict;
    }

    /// <summary>When its wait is over: still the same process, still here, still running the same program, not
    /// locked meanwhile, and wanting a CPU (ran or waited to run) at least half the time since its exec.</summary>
    public bool StillWorthPlacing(ManagedProcess process, string program)
    {
        ArgumentNullException.ThrowIfNull(process);
        return registry.FindHome(process.Pid) == process && process.State == ProcessState.Home && process.Program == program
               && !process.Locked && WantsCpu(process);
    }

    private bool WantsCpu(ManagedProcess process)
    {
        try
        {
            return process.ExecutedAt is { } at && ExecPlacement.WantsCpu(SchedStat.Read(process.Pid).Wanting, now() - at);
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false; // gone
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "process {Pid} stays: {Program} usually ends too soon to repay a move")]
    private static partial void LogTooShort(ILogger logger, int pid, string program);
}
