using OpenMosix.Linux.Events;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Fork-and-forget: every process forked by a managed process of this node is managed from birth, at any depth and
/// after any exec (<see cref="ProcessRegistry.RegisterChild"/>). omd learns of forks, execs and exits from the kernel's
/// process connector as they happen, at no cost to the processes; it reads them on a thread of its own. A fork is
/// reported before the child can run, so a child's own forks always come after it is known. When the kernel drops
/// events (a burst faster than omd reads), and where the connector cannot be had, /proc is read instead: the
/// descendants of managed processes found there are registered (every half second without the connector), and without
/// the connector the [manage] policy is asked about the processes each scan finds new (<see cref="ScanForPolicy"/>).
/// </summary>
public sealed partial class DescendantTracker(ProcessRegistry registry, ILogger logger) : IDisposable
{
    private static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(500);
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    /// <summary>A managed process of this node ran execve (or, without the connector, was found).</summary>
    public Action<ManagedProcess>? Execed { get; init; }

    /// <summary>A managed process of this node ended: its program and how long it ran since its exec.</summary>
    public Action<string, TimeSpan>? Ended { get; init; }

    /// <summary>omd.toml [manage] as it is now (mosctl manage changes it): unmanaged processes that exec a program
    /// matching it are adopted.</summary>
    public Func<ManagePolicy> Policy { get; init; } = () => ManagePolicy.None;

    /// <summary>Whether the kernel's events are read (false: /proc is scanned).</summary>
    public bool Connected { get; private set; }

    public void Start()
    {
        ProcessEventSource? source = null;
        try
        {
            source = ProcessEventSource.Open();
            Connected = true;
        }
        catch (SyscallException e)
        {
            LogNoConnector(logger, e.Message);
        }
        _thread = new Thread(() => Run(source)) { Name = "omd process events", IsBackground = true };
        _thread.Start();
    }

    private void Run(ProcessEventSource? source)
    {
        var events = new List<ProcessEvent>();
        using (source)
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (source is null)
                    {
                        _stop.Token.WaitHandle.WaitOne(ScanInterval);
                        Rescan();
                        ScanForPolicy(MonotonicClock.Now());
                        continue;
                    }
                    events.Clear();
                    source.Receive(events, _pending.Count > 0 ? AdoptionSweep : ScanInterval);
                    foreach (var e in events) Handle(e);
                    AdoptDue(MonotonicClock.Now());
                }
                catch (Exception e) when (e is IOException or SyscallException or ProcessAccessException or UnauthorizedAccessException)
                {
                    LogEventFailed(logger, e.Message);
                }
            }
        }
    }

    /// <summary>Applies one event (public for tests that feed events by hand).</summary>
    public void Handle(ProcessEvent e)
    {
        switch (e.Kind)
        {
            case ProcessEventKind.Fork:
                if (registry.RegisterForked(e.Pid, e.ParentPid, e.Timestamp) is { } child)
                {
                    registry.Update(child, c => c.ExecutedAt = e.Timestamp);
                    LogChild(logger, e.Pid, e.ParentPid);
                }
                break;
            case ProcessEventKind.Exec:
                var execed = registry.FindHome(e.Pid);
                // Ended already (its PID may name another process now): what it ran is unknown, not its parent's
                // program, whose run times must not count its lifetime.
                if (execed is null && registry.FindExited(e.Pid) is { } gone) registry.Update(gone, p => p.Program = null);
                if (execed is null && !Policy().IsEmpty) AdoptIfCandidate(e);
                if (execed is { State: ProcessState.Home })
                {
                    var program = ProcessRegistry.ExecutableOf(e.Pid);
                    // Its command line is read when it is listed (om ps), not here: see RegisterChild.
                    registry.Update(execed, p =>
                    {
                        p.Program = program;
                        p.ExecutedAt = e.Timestamp;
                    });
                    if (program is not null) Execed?.Invoke(execed);
                }
                break;
            case ProcessEventKind.Exit:
                // Only an entry registered before the exit: see FindExited.
                if (registry.FindExited(e.Pid, e.Timestamp) is { } ended)
                {
                    if (ended.Program is { } program && ended.ExecutedAt is { } start && e.Timestamp > start)
                        Ended?.Invoke(program, e.Timestamp - start);
                    registry.ForgetEnded(ended);
                }
                break;
            case ProcessEventKind.Lost:
                LogLost(logger);
                registry.ForgetUnreportedEnds();
                Rescan();
                break;
        }
    }

    /// <summary>How long a process runs after its exec before the [manage] policy is asked about it: most of what a
    /// busy shell execs ends within milliseconds and is never worth managing (placement would wait longer than this
    /// anyway), and a process that is gone by then costs one kill(pid, 0). The execs wait in a queue this thread
    /// sweeps, not in timers: the fork+exec loop of bench/adoption measured 1.12x with adoption at the exec itself,
    /// 1.05x with a timer per exec.</summary>
    public static readonly TimeSpan AdoptionDelay = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan AdoptionSweep = TimeSpan.FromMilliseconds(25);
    private readonly Queue<ProcessEvent> _pending = new();

    private void AdoptIfCandidate(ProcessEvent e) => _pending.Enqueue(e);

    /// <summary>Asks the [manage] policy about each process that exec'd <see cref="AdoptionDelay"/> ago or more and
    /// still runs: its program (a readlink), its uid (a stat of /proc/PID), its cgroups only when a cgroup rule must
    /// decide. Runs on the event thread (and from tests).</summary>
    public void AdoptDue(TimeSpan now)
    {
        var policy = Policy();
        while (_pending.TryPeek(out var e) && e.Timestamp + AdoptionDelay <= now)
        {
            _pending.Dequeue();
            if (policy.IsEmpty || !Signals.Exists(e.Pid) || registry.FindHome(e.Pid) is not null) continue;
            var program = ProcessRegistry.ExecutableOf(e.Pid);
            if (!FileStatus.TryOf($"/proc/{e.Pid}", out var owner, out _)
                || !policy.Matches(owner!.Owner, program, () => CgroupsOf(e.Pid))
                || AdoptionCheck.Refusal(e.Pid, 0) is not null) continue;
            ManagedProcess adopted;
            try
            {
                adopted = registry.Adopt(e.Pid, readCommand: false);
            }
            catch (InvalidOperationException)
            {
                continue; // managed meanwhile, or gone
            }
            registry.Update(adopted, p =>
            {
                p.Program = program;
                p.ExecutedAt = e.Timestamp;
            });
            LogAdopted(logger, e.Pid, program ?? "?");
            if (program is not null) Execed?.Invoke(adopted);
        }
    }

    private Dictionary<int, (ulong Start, string Comm)>? _scanned;

    /// <summary>
    /// Without the kernel's events, /proc is read for the [manage] policy instead: a process that was not there at the
    /// last scan, or runs another program (its comm changed), is asked about like one that exec'd then, and adopted at
    /// a later scan if it still runs and matches (half a second on, well past <see cref="AdoptionDelay"/>). Processes
    /// there at the first scan are left alone, as the kernel's events leave those that were there before omd. Runs
    /// on the event thread (and from tests).
    /// </summary>
    public void ScanForPolicy(TimeSpan now)
    {
        AdoptDue(now);
        if (Policy().IsEmpty)
        {
            _scanned = null;
            return;
        }
        var current = new Dictionary<int, (ulong, string)>();
        foreach (var pid in ProcessTable.Pids())
        {
            ProcStat stat;
            try
            {
                stat = ProcFs.ReadStat(pid);
            }
            catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException or FormatException)
            {
                continue; // gone while we looked
            }
            if (stat.IsKernelThread) continue;
            current[pid] = (stat.StartTime, stat.Comm);
            if (_scanned is not null && (!_scanned.TryGetValue(pid, out var before) || before != current[pid]))
                _pending.Enqueue(new ProcessEvent(ProcessEventKind.Exec, pid, 0, now));
        }
        _scanned = current;
    }

    private static IReadOnlyList<string> CgroupsOf(int pid)
    {
        try
        {
            return [.. CgroupV1.Entries(ProcFs.ReadText(pid, "cgroup")).Select(e => e.Path)];
        }
        catch (ProcessAccessException)
        {
            return [];
        }
    }

    /// <summary>Registers the descendants of managed processes that /proc shows and the registry does not have.</summary>
    public int Rescan()
    {
        var known = registry.HomePids().ToHashSet();
        foreach (var guest in registry.Guests()) known.Add(guest.Pid);
        var registered = 0;
        foreach (var (pid, parent) in ProcessTable.Descendants(ProcessTable.ReadParents(), known))
        {
            if (registry.RegisterChild(pid, parent) is not { } child) continue;
            registered++;
            var program = ProcessRegistry.ExecutableOf(pid);
            // When it exec'd is not known: its age is counted from now, which may take a sleeper for CPU-bound.
            var found = MonotonicClock.Now();
            registry.Update(child, c =>
            {
                c.Program = program;
                c.ExecutedAt = found;
            });
            if (program is not null) Execed?.Invoke(child);
        }
        return registered;
    }

    public void Dispose()
    {
        _stop.Cancel();
        // A thread still running after the bound (a loaded machine) waits on the token's handle: disposing it under
        // that thread would throw there and end omd, so it is then left to the finalizer.
        if (_thread is null || _thread.Join(TimeSpan.FromSeconds(2))) _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "no process events from the kernel ({Reason}): descendants of managed processes, and processes [manage] names, are found by reading /proc every half second")]
    private static partial void LogNoConnector(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process events: {Reason}")]
    private static partial void LogEventFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "the kernel dropped process events; reading /proc for the descendants of managed processes")]
    private static partial void LogLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "process {Pid} ({Program}) adopted: [manage] names it")]
    private static partial void LogAdopted(ILogger logger, int pid, string program);

    [LoggerMessage(Level = LogLevel.Debug, Message = "process {Pid}, forked by managed process {Parent}, is managed")]
    private static partial void LogChild(ILogger logger, int pid, int parent);
}
