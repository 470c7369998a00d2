using OpenMosix.Balancing.Demand;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Every managed process of this node, home ones by their home PID and guests by their local PID. Each entry holds
/// its process's start time too: a PID is handed out again once its process is reaped (pid_max may be 32768), and an
/// entry whose PID now names another process is that of a process that ended, never the new one's (which would
/// inherit its owner, lock and placement). A process that ended at home leaves the registry's lookups the next time
/// it is read, but its entry is kept aside until the kernel's exit event for it (which may come later) has been
/// handled, so what that event reports about it (its program's run time) is not lost. <paramref name="startTimeOf"/> reads a PID's start time (null: no such process); tests inject their own.
/// </summary>
public sealed class ProcessRegistry(ushort self, Func<int, ulong?>? startTimeOf = null)
{
    private readonly Func<int, ulong?> _startTimeOf = startTimeOf ?? StartTimeOf;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ManagedProcess> _home = [];
    private readonly Dictionary<int, ManagedProcess> _guests = [];
    private readonly Dictionary<int, (ManagedProcess Process, long SeenAt)> _ended = [];

    /// <summary>How long an ended entry waits for its exit event: the proc connector may drop events under load
    /// (it says so, and the tracker rescans), and then nothing else would ever take it.</summary>
    public static readonly TimeSpan EndedKept = TimeSpan.FromSeconds(30);

    public ushort Self { get; set; } = self;

    /// <summary>A new home process; its decay and hint are set before the balancer can see it (it reads them once,
    /// when it starts measuring the process). <paramref name="execsNext"/>: om run registers itself and then execs
    /// the program; what it runs now and the descriptors its exec closes are recorded, so that moves wait for the exec.</summary>
    public ManagedProcess Register(int pid, uint uid, DecayMode? decay = null, JobHint hint = JobHint.Measured, bool execsNext = false)
    {
        // Before anything is read of it: the caller runs now, so any exit reported before is another's.
        var since = MonotonicClock.Now();
        var command = CommandOf(pid);
        var startup = execsNext ? OmStartup.Of(pid) : null;
        var started = _startTimeOf(pid) ?? 0;
        lock (_gate)
        {
            if (_home.TryGetValue(pid, out var known) && known.State != ProcessState.Home)
                throw new InvalidOperationException($"process {pid} is already managed and {known.State.ToString().ToLowerInvariant()}");
            SetAsideIfEnded(pid);
            var process = new ManagedProcess(pid, uid, Self, command)
            {
                StartTime = started, Since = since, Decay = decay, Hint = hint, Startup = startup,
            };
            _home[pid] = process;
            return process;
        }
    }

    /// <summary>
    /// A running process omd takes as it is (om adopt, migrate of any PID; <see cref="AdoptionCheck"/> first), with the
    /// node's defaults and its own (real) uid. With <paramref name="parentPid"/> it is adopted as part of a tree, under
    /// that process. Throws <see cref="InvalidOperationException"/> when it is managed already or has ended.
    /// </summary>
    public ManagedProcess Adopt(int pid, int parentPid = 0, bool readCommand = true)
    {
        var since = MonotonicClock.Now();
        uint uid;
        try
        {
            uid = ProcFs.ReadStatus(pid).Uid[0];
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException or FormatException)
        {
            throw new InvalidOperationException($"process {pid} ended while it was adopted", e);
        }
        // Without readCommand (adopted at its exec, by policy) its command line is read when it is listed: see
        // RegisterChild for why not now.
        var command = readCommand ? CommandOf(pid) : "?";
        var program = ExecutableOf(pid);
        var started = _startTimeOf(pid) ?? throw new InvalidOperationException($"process {pid} ended while it was adopted");
        lock (_gate)
        {
            if (_home.TryGetValue(pid, out var known) && known.State is not (ProcessState.Home or ProcessState.Lost))
                throw new InvalidOperationException($"process {pid} is already managed and {known.State.ToString().ToLowerInvariant()}");
            if (_guests.TryGetValue(pid, out var guest) && IsCurrent(guest)) throw new InvalidOperationException($"process {pid} runs here for another node");
            SetAsideIfEnded(pid);
            var process = new ManagedProcess(pid, uid, Self, command)
            {
                StartTime = started, Since = since, Adopted = true, ParentPid = parentPid, Program = program,
            };
            _home[pid] = process;
            return process;
        }
    }

    /// <summary>
    /// A home process the previous omd of this node managed (its state file), taken back as it was: false when its PID
    /// now names another process (not started when it was) or an entry holds it already.
    /// </summary>
    public bool TakeBack(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (process.State != ProcessState.Home || !IsCurrent(process)) return false;
        lock (_gate) return _home.TryAdd(process.Pid, process);
    }

    /// <summary>
    /// A process just forked by a managed process of this node (home or guest): managed from birth, with its parent's
    /// lock, decay, job hint and placement wishes, as openMosix children inherited theirs. Its home is this node: a
    /// guest's child is born here, and its deputy would stay here with its parent. Null when the parent is not managed
    /// here, or is a deputy (it cannot fork).
    /// </summary>
    public ManagedProcess? RegisterChild(int pid, int parentPid)
    {
        var since = MonotonicClock.Now();
        ManagedProcess? parent;
        lock (_gate)
            parent = _home.GetValueOrDefault(parentPid) is { State: ProcessState.Home or ProcessState.Migrating } home ? home
                : _guests.GetValueOrDefault(parentPid);
        // A parent entry whose PID now names another process is a dead one's.
        return parent is not null && IsCurrent(parent) ? RegisterChildOf(parent, pid, parentPid, since) : null;
    }

    /// <summary>
    /// <see cref="RegisterChild"/> for the kernel's report of a fork, read in the order the kernel sent its reports,
    /// maybe long after: the parent may have ended since (a subshell that starts a job and exits at once), or even its
    /// PID been handed out again. Its exit is reported after its forks and before any news of the PID's next process, so
    /// the forker is the entry under the parent's PID whose exit has not been read yet: one set aside as ended first,
    /// then the one there, ended or not. A guest's end is not reported that way (its migration removes it): a guest
    /// parent must still run. After lost reports this holds again once <see cref="ForgetUnreportedEnds"/> has run.
    /// <paramref name="bornAt"/>: the fork report's time (null: now).
    /// </summary>
    public ManagedProcess? RegisterForked(int pid, int parentPid, TimeSpan? bornAt = null)
    {
        var since = bornAt ?? MonotonicClock.Now();
        ManagedProcess? parent;
        lock (_gate)
            parent = _ended.TryGetValue(parentPid, out var ended) ? ended.Process
                : _home.GetValueOrDefault(parentPid) is { State: ProcessState.Home or ProcessState.Migrating } home ? home
                : _guests.GetValueOrDefault(parentPid) is { } guest && IsCurrent(guest) ? guest : null;
        return parent is null ? null : RegisterChildOf(parent, pid, parentPid, since);
    }

    private ManagedProcess? RegisterChildOf(ManagedProcess parent, int pid, int parentPid, TimeSpan since)
    {
        // Only the start times are read from /proc here (stat takes no mm lock): reading a child's cmdline takes its
        // mm lock, which its exec needs, and a fork loop under om run would pay for it. A child has its parent's uid
        // and command line until it execs.
        var started = _startTimeOf(pid) ?? 0;
        lock (_gate)
        {
            // The parent was given back or released since it was found (its adoption's move did not happen): what it
            // forked is not managed either, or it would be left behind as a managed child of an unmanaged process.
            if (!IsListed(parent)) return null;
            // A PID held by a deputy cannot be handed out again; any other entry under it is a dead process's.
            if (_home.TryGetValue(pid, out var known) && known.State is not (ProcessState.Home or ProcessState.Lost)) return null;
            var child = new ManagedProcess(pid, parent.Uid, Self, parent.Command)
            {
                StartTime = started, Since = since, ParentPid = parentPid, Locked = parent.Locked, Decay = parent.Decay, Hint = parent.Hint, Request = parent.Request,
                Program = parent.Program, ForkedByGuest = parent.State == ProcessState.Guest ? parent.Pid : parent.ForkedByGuest,
            };
            _home[pid] = child;
            return child;
        }
    }

    /// <summary>The process of this node managed under <paramref name="pid"/> (the event path: the kernel says when
    /// they die, so other entries are not looked at). An entry of a process that ended while at home, whose PID now
    /// names another process, is forgotten instead.</summary>
    public ManagedProcess? FindHome(int pid)
    {
        lock (_gate)
        {
            if (_home.GetValueOrDefault(pid) is not { } process) return null;
            if (process.State is not (ProcessState.Home or ProcessState.Lost) || IsCurrent(process)) return process;
            SetAside(pid, process);
            return null;
        }
    }

    /// <summary>The entry under <paramref name="pid"/> as it is, for the kernel's news that its process exited (it may
    /// be reaped already, its start time unreadable): one a lookup already found ended comes first, since a new
    /// process registered under the PID since then is alive. With <paramref name="exitedAt"/> (the report's time) an
    /// entry registered after it is not the one that exited: the report is of an earlier process under its PID (any
    /// process of the machine's, managed or not: the kernel reports them all), read late, and must not take the live
    /// one out of the registry (om run registers outside the kernel's reports, so they give no order to go by).</summary>
    public ManagedProcess? FindExited(int pid, TimeSpan? exitedAt = null)
    {
        lock (_gate)
        {
            var entry = _ended.TryGetValue(pid, out var ended) ? ended.Process : _home.GetValueOrDefault(pid);
            return entry is not null && exitedAt is { } at && at < entry.Since ? null : entry;
        }
    }

    /// <summary>Every home PID managed here, in any state.</summary>
    public IReadOnlyCollection<int> HomePids()
    {
        lock (_gate) return [.. _home.Keys];
    }

    /// <summary>Forgets a home process that ended at home; one away or moving is the migration's to forget.</summary>
    public void ForgetEnded(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        lock (_gate)
        {
            if (_ended.TryGetValue(process.Pid, out var ended) && ended.Process == process) _ended.Remove(process.Pid);
            else if (process.State == ProcessState.Home && _home.GetValueOrDefault(process.Pid) == process) _home.Remove(process.Pid);
        }
    }

    /// <summary>Gives back a process adopted only to be moved when the move did not happen, with what it forked
    /// meanwhile and is still here at home (managed from birth as its children): all are left as they were before.
    /// One that is not at home (it moved, or a move of it is under way) is not given back: it is managed now. A fork
    /// reported after this finds no parent to register its child under (<see cref="RegisterChildOf"/>).</summary>
    public void GiveBack(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        lock (_gate)
            if (process.State != ProcessState.Home) return;
        ForgetEnded(process);
        List<ManagedProcess> children;
        lock (_gate) children = [.. _home.Values.Where(c => c.ParentPid == process.Pid && c.State == ProcessState.Home && !c.Adopted)];
        foreach (var child in children) GiveBack(child);
    }

    /// <summary>A copy of another node's process now runs here, with the settings it has at home (its lock, decay, job
    /// hint and placement wishes): the balancer here heeds them, and what it forks here inherits them.</summary>
    public ManagedProcess AddGuest(int pid, uint uid, ushort home, string command, int homePid, DecayMode? decay = null, JobHint hint = JobHint.Measured,
        bool locked = false, RunRequest? request = null)
    {
        var started = _startTimeOf(pid) ?? 0;
        lock (_gate)
        {
            var guest = new ManagedProcess(pid, uid, home, command)
            {
                StartTime = started, State = ProcessState.Guest, Where = Self, RemotePid = homePid, Decay = decay, Hint = hint,
                Locked = locked, Request = request,
            };
            _guests[pid] = guest;
            return guest;
        }
    }

    public void RemoveGuest(int pid)
    {
        lock (_gate) _guests.Remove(pid);
    }

    public void Forget(int pid)
    {
        lock (_gate) _home.Remove(pid);
    }

    public ManagedProcess? Find(int pid)
    {
        lock (_gate)
        {
            Prune();
            return _home.GetValueOrDefault(pid) ?? _guests.GetValueOrDefault(pid);
        }
    }

    public void Update(ManagedProcess process, Action<ManagedProcess> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate) change(process);
    }

    /// <summary>This node's own processes that run on other nodes now.</summary>
    public IReadOnlyList<ManagedProcess> Away()
    {
        lock (_gate) return [.. _home.Values.Where(p => p.State == ProcessState.Remote)];
    }

    /// <summary>What the copy of <paramref name="guestPid"/> forked here, at any depth, that is still managed here: its
    /// home lists them (remote fork).</summary>
    public IReadOnlyList<ManagedProcess> ForkedBy(int guestPid)
    {
        lock (_gate)
        {
            Prune();
            return [.. _home.Values.Where(p => p.ForkedByGuest == guestPid && p.ForkedByGuest != 0)];
        }
    }

    /// <summary>The processes this node's copies away forked on their nodes (remote fork), as those nodes report them.</summary>
    public ForkedAway ForkedAway { get; } = new();

    /// <summary>Other nodes' processes running here now.</summary>
    public IReadOnlyList<ManagedProcess> Guests()
    {
        lock (_gate)
        {
            Prune();
            return [.. _guests.Values];
        }
    }

    /// <summary>This node's own processes that run here now (not away, not moving).</summary>
    public IReadOnlyList<ManagedProcess> RunningAtHome()
    {
        lock (_gate)
        {
            Prune();
            return [.. _home.Values.Where(p => p.State == ProcessState.Home)];
        }
    }

    public ProcessList List()
    {
        lock (_gate)
        {
            Prune();
            // A process of this node forked away and moved on to here runs here as its birth node's guest: it is listed
            // once, as home knows it.
            var hosted = ForkedAway.HostedHere(Self);
            var rows = _home.Values.Concat(_guests.Values.Where(g => !hosted.Contains((g.Home, g.Pid)))).Select(Row)
                .Concat(ForkedAway.Rows(Self)).OrderBy(p => p.Pid).ToList();
            return new ProcessList(Self, rows);
        }
    }

    public ProcessRow Row(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (process.State == ProcessState.Home) process.Command = CommandOf(process.Pid);
        // The process's own counters are read here, where it or its deputy lives; what its copies used on other
        // nodes is added, so its CPU time keeps counting over moves. A copy away shows what it reported last.
        var (cpu, memory) = Usage(process.Pid);
        double percent;
        if (process.State is ProcessState.Remote or ProcessState.Migrating)
        {
            cpu += process.StayCpuSeconds;
            memory = process.RemoteResidentBytes;
            percent = process.RemoteCpu.Percent;
        }
        else
        {
            process.LocalCpu.Add(cpu, MonotonicClock.Now());
            percent = process.LocalCpu.Percent;
        }
        if (process.State != ProcessState.Guest) cpu += process.AwayCpuSeconds;
        return new ProcessRow(process.Pid, (int)process.Uid, process.Home, process.Where,
            process.State.ToString().ToLowerInvariant(), process.Migrations, process.Locked, process.CantMove, cpu, memory,
            process.Command, process.RemotePid, process.ParentPid, Origin(process), percent);
    }

    private static string Origin(ManagedProcess process) =>
        process.State == ProcessState.Guest ? "guest" : process.Adopted ? "adopted" : process.ParentPid != 0 ? "child" : "run";

    /// <summary>Ended processes are dropped: those at home (away ones have a deputy holding their PID) and guests.</summary>
    private void Prune()
    {
        foreach (var (pid, process) in _home.Where(p => p.Value.State is ProcessState.Home or ProcessState.Lost && !IsCurrent(p.Value)).ToList())
            SetAside(pid, process);
        var oldest = Environment.TickCount64 - (long)EndedKept.TotalMilliseconds;
        foreach (var pid in _ended.Where(e => e.Value.SeenAt < oldest).Select(e => e.Key).ToList())
            _ended.Remove(pid);
        foreach (var pid in _guests.Where(p => !IsCurrent(p.Value)).Select(p => p.Key).ToList())
            _guests.Remove(pid);
    }

    /// <summary>A new process is registered under <paramref name="pid"/> (om run, adoption: not from the kernel's
    /// reports): an entry there of a process that ended is kept for its exit report, which may not have been read yet
    /// and must not take the new one with it (under the gate).</summary>
    private void SetAsideIfEnded(int pid)
    {
        if (_home.GetValueOrDefault(pid) is { State: ProcessState.Home or ProcessState.Lost } known && !IsCurrent(known)) SetAside(pid, known);
    }

    /// <summary>The kernel dropped reports: ends it reported may be among them, so the entries of processes that ended
    /// are dropped now rather than kept for reports that may never come (and taken meanwhile for the forkers of their
    /// PIDs' next processes: <see cref="RegisterForked"/>).</summary>
    public void ForgetUnreportedEnds()
    {
        lock (_gate)
        {
            Prune();
            _ended.Clear();
        }
    }

    /// <summary>Out of the lookups, kept for its exit event (under the gate).</summary>
    private void SetAside(int pid, ManagedProcess process)
    {
        _home.Remove(pid);
        _ended[pid] = (process, Environment.TickCount64);
    }

    /// <summary>The entry is still this registry's: at home (or set aside for its exit report) or a guest (under the gate).</summary>
    private bool IsListed(ManagedProcess process) =>
        _home.GetValueOrDefault(process.Pid) == process || _guests.GetValueOrDefault(process.Pid) == process
        || (_ended.TryGetValue(process.Pid, out var ended) && ended.Process == process);

    /// <summary>Its PID still names it: a process runs under it, started when it did.</summary>
    private bool IsCurrent(ManagedProcess process) => _startTimeOf(process.Pid) is { } started && started == process.StartTime;

    /// <summary>The start time of the process under <paramref name="pid"/> (/proc/PID/stat field 22), null if none.</summary>
    public static ulong? StartTimeOf(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).StartTime;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public static string? ExecutableOf(int pid)
    {
        try
        {
            return ProcFs.ReadExecutable(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcessAccessException)
        {
            return null;
        }
    }

    public static string CommandOf(int pid)
    {
        try
        {
            return ProcFs.ReadCommand(pid);
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static (double CpuSeconds, long MemoryBytes) Usage(int pid)
    {
        try
        {
            return (ProcFs.ReadStat(pid).CpuSeconds, ProcFs.ReadResidentBytes(pid));
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return (0, 0);
        }
    }
}
