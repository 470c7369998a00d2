namespace OpenMosix.Admin;

/// <summary>
/// A managed process as `om ps` shows it. Home and Where are node ids; State: home (running at home), migrating,
/// remote (running on Where, the deputy at home), lost (its node died), guest (running here for another home).
/// ParentPid: the managed process that forked it (0 for one started with om run, and for guests). Origin: how it came to
/// be managed: run (om run), child (forked by a managed process), adopted (om adopt, migrate of any PID), guest, or
/// forked-away (forked on node Where, or on the node it moved on from, by a process of this node running there: Pid is
/// its PID on the node it was born on, RemotePid where it runs; its parent there waits for it).
/// </summary>
public sealed record ProcessRow(
    int Pid,
    int Uid,
    int Home,
    int Where,
    string State,
    int Migrations,
    bool Locked,
    IReadOnlyList<string> CantMove,
    double CpuSeconds,
    long MemoryBytes,
    string Command,
    int RemotePid,
    int ParentPid = 0,
    string Origin = "",
    double CpuPercent = 0);

public sealed record ProcessList(int Self, IReadOnlyList<ProcessRow> Processes);

/// <summary>
/// How `om run` wants its process placed: On (a node id), or Among (a list to pick the least loaded from), with
/// Fallback to any node when those are unavailable; Home keeps it home; Lock keeps the balancer from moving it.
/// Decay: "slow", "fast" or "none" (mosrun -s / -f / -n; null: the node's default). Hint: "cpu" or "io" (mosrun -c /
/// -i; null: measured).
/// </summary>
public sealed record RunRequest(int On, IReadOnlyList<int> Among, bool Fallback, bool Home, bool Lock,
    string? Decay = null, string? Hint = null);

/// <summary>mosctl manage: omd.toml [manage] in effect: users (names, uids, "*"), cgroup rules, program patterns.</summary>
public sealed record ManageView(IReadOnlyList<string> Users, IReadOnlyList<string> Cgroups, IReadOnlyList<string> Programs);

/// <summary>om kill: a signal (1-64) for a managed process of this node, wherever it runs, or one its processes away
/// forked on their nodes (listed here with origin "forked-away").</summary>
public sealed record SignalRequest(int Signal);

/// <summary>om adopt: the process, and with Tree its descendants too.</summary>
public sealed record AdoptRequest(bool Tree);

/// <summary>A mosctl switch of this node (block, quiet, stay, lstay) turned on or off; the answer lists those on.</summary>
public sealed record SwitchChange(string Name, bool On);

public sealed record NodeSwitchList(IReadOnlyList<string> On);

/// <summary>What `mosctl bring` did: the processes that came home, and those that could not (with why).</summary>
/// <summary>mosctl expel: the guests (their PIDs here) that went home, those that could not, and the switches now on.</summary>
public sealed record ExpelResult(IReadOnlyList<int> Expelled, IReadOnlyList<string> Failed, IReadOnlyList<string> SwitchesOn);

public sealed record BringResult(IReadOnlyList<int> Brought, IReadOnlyList<string> Failed, IReadOnlyList<string> SwitchesOn);

/// <summary>Where to move a process: a node id, "home", or "balance" (the least loaded node). Precopy null: as omd
/// is configured (migration.precopy); false: freeze first and copy everything while frozen. Progress: answer with
/// a stream of <see cref="MigrationEvent"/> lines (<see cref="MigrationEvents"/>) instead of one result; an omd
/// that predates it ignores it and answers the one result.</summary>
public sealed record MigrateRequest(string Target, bool? Precopy = null, bool Progress = false)
{
    /// <summary>migration.postcopy for this move: auto, never or always; null: as omd is configured.</summary>
    public string? Postcopy { get; init; }
}

/// <summary>om migrate --tree: the process whose tree it is, the node its members went to (this node's id when they came
/// home), and each member's move, the root's first when it moved.</summary>
public sealed record TreeMigrationResult(int Root, int To, IReadOnlyList<MigrationResult> Moved);

/// <summary>
/// A move done: ImageBytes crossed the link while the process was frozen (FrozenMs); with pre-copy, PrecopyBytes
/// went before in PrecopyRounds rounds while it ran on, and TotalMs is the whole move.
/// </summary>
public sealed record MigrationResult(int Pid, int From, int To, long ImageBytes, long FrozenMs, int RemotePid)
{
    public int PrecopyRounds { get; init; }
    public long PrecopyBytes { get; init; }
    public long TotalMs { get; init; }
    /// <summary>Post-copy: the copy ran once the rest of the image was there, and fetched its memory from home then.</summary>
    public bool Postcopy { get; init; }
}
