using System.Text.Json.Serialization;

namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>
/// One control message of a migration link. Each kind is a type of its own with only its fields; on the wire it is
/// JSON with a "kind" first. <see cref="MigrationSteps"/> says who sends which kind when. A message whose fields are
/// out of range is a protocol error like a malformed one: <see cref="Problem"/> says what is wrong.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Offer), "offer")]
[JsonDerivedType(typeof(Accept), "accept")]
[JsonDerivedType(typeof(Refuse), "refuse")]
[JsonDerivedType(typeof(PrecopyRound), "precopy")]
[JsonDerivedType(typeof(RoundTaken), "precopied")]
[JsonDerivedType(typeof(Final), "final")]
[JsonDerivedType(typeof(Restored), "restored")]
[JsonDerivedType(typeof(Failed), "failed")]
[JsonDerivedType(typeof(Commit), "commit")]
[JsonDerivedType(typeof(Abort), "abort")]
[JsonDerivedType(typeof(Running), "running")]
[JsonDerivedType(typeof(ForwardSignal), "signal")]
[JsonDerivedType(typeof(Exited), "exit")]
[JsonDerivedType(typeof(MoveRequest), "move")]
[JsonDerivedType(typeof(MoveFailed), "move-failed")]
[JsonDerivedType(typeof(ComeHome), "come-home")]
[JsonDerivedType(typeof(ImageFollows), "image-follows")]
[JsonDerivedType(typeof(WelcomeHome), "home")]
[JsonDerivedType(typeof(Stay), "stay")]
[JsonDerivedType(typeof(SignalsAfterImage), "signals-after-image")]
[JsonDerivedType(typeof(TerminalModesChanged), "terminal-modes")]
[JsonDerivedType(typeof(CopyJobState), "copy-job")]
[JsonDerivedType(typeof(Usage), "usage")]
[JsonDerivedType(typeof(InputTaken), "input-taken")]
[JsonDerivedType(typeof(InputWritten), "input-written")]
[JsonDerivedType(typeof(CheckpointFollows), "checkpoint")]
[JsonDerivedType(typeof(CheckpointCounts), "checkpoint-counts")]
[JsonDerivedType(typeof(CheckpointStored), "checkpoint-stored")]
[JsonDerivedType(typeof(Resume), "resume")]
[JsonDerivedType(typeof(Resumed), "resumed")]
[JsonDerivedType(typeof(CheckpointAsk), "checkpoint-ask")]
[JsonDerivedType(typeof(CheckpointGo), "checkpoint-go")]
[JsonDerivedType(typeof(ForkedThere), "forked")]
[JsonDerivedType(typeof(SignalForked), "signal-forked")]
[JsonDerivedType(typeof(MoveForked), "move-forked")]
[JsonDerivedType(typeof(ForkedMoved), "forked-moved")]
[JsonDerivedType(typeof(Outlived), "exit-outlived")]
[JsonDerivedType(typeof(PostcopyFinal), "postcopy-final")]
[JsonDerivedType(typeof(PagesHeld), "pages-held")]
[JsonDerivedType(typeof(LockChanged), "lock")]
public abstract record MigrationMessage
{
    /// <summary>Why the fields make no sense, or null.</summary>
    public virtual string? Problem() => null;

    private protected static string? Check(bool ok, string problem) => ok ? null : problem;

    private protected static bool IsNode(int node) => node is > 0 and <= ushort.MaxValue;

    private protected static bool IsModes(byte[]? modes) => modes is null or { Length: Terminal.TermiosSize };

    private protected static bool IsSize(byte[]? size) => size is null or { Length: Terminal.WinsizeSize };
}

/// <summary>A file the process runs from (its program, a mapped library) with its size: the target must have the same one.</summary>
public sealed record FileFingerprint(string Path, long Size);

/// <summary>A regular file the process holds open (outside the home paths), as home sees it: the target says which it
/// lacks or has different (<see cref="Accept.Forward"/>), and those stay at home, forwarded.</summary>
public sealed record OpenFile(int Fd, string Path, ulong Device, ulong Inode, long Size);

/// <summary>Home → target: a process to take, and what it needs there. The terminal fields are there when its stdio
/// was a terminal (struct termios, struct winsize); decay and hint when they are not the defaults. Owner says whose it
/// is: the target refuses an offer without one, and an image whose credentials are not exactly these.</summary>
public sealed record Offer(int Pid, int Uid, int HomeNode, string Command, string Kernel, long MemoryBytes,
    IReadOnlyList<FileFingerprint> Files, string? Decay = null, string? Hint = null,
    byte[]? TerminalModes = null, byte[]? TerminalSize = null, ProcessOwner? Owner = null) : MigrationMessage
{
    public const int MaxFiles = 2048;

    /// <summary>Home's home paths ([files] home_paths): the copy's opens and stats of paths below them are sent home.</summary>
    public IReadOnlyList<string>? HomePaths { get; init; }

    /// <summary>Home makes the sockets of the internet families the copy creates away (forwarding.sockets_created_away
    /// = "home"): the copy's socket calls of those families are sent home. False: they are the target's own.</summary>
    public bool SocketsAtHome { get; init; }

    /// <summary>The regular files it holds open outside the home paths (none: null); at most <see cref="MaxFiles"/>.</summary>
    public IReadOnlyList<OpenFile>? OpenFiles { get; init; }

    /// <summary>Home's lock on it (om run --lock, the lock file of its /proc view): the target's balancer does not move
    /// it on, and what it forks there is locked from birth, as its children at home would be.</summary>
    public bool Locked { get; init; }

    /// <summary>Where om run asked it to run (--on, --among, --fallback, --home): what it forks there inherits them
    /// and is placed at exec by them, as its children at home would be.</summary>
    public OpenMosix.Admin.RunRequest? Request { get; init; }

    /// <summary>The most nodes a placement wish in an offer may name.</summary>
    public const int MaxWishedNodes = 4096;

    public override string? Problem() =>
        Check(Pid > 0, "pid must be positive")
        ?? Check(IsNode(HomeNode), "home node out of range")
        ?? Check(MemoryBytes >= 0, "memory must not be negative")
        ?? Check(Files.Count <= MaxFiles, $"more than {MaxFiles} files")
        ?? Check(OpenFiles is null || (OpenFiles.Count <= MaxFiles && OpenFiles.All(f => f.Fd >= 0 && f.Path.StartsWith('/') && f.Size >= 0)),
            $"more than {MaxFiles} open files, or one that is not a descriptor of an absolute path")
        ?? Check(IsModes(TerminalModes) && IsSize(TerminalSize), "terminal modes or size of the wrong length")
        ?? Check(Owner is null || (Owner.Groups.Count <= ProcessOwner.MaxGroups), "an owner with too many groups")
        ?? Check(HomePaths is null || (HomePaths.Count <= Checkpoint.CantMove.HomePaths.MaxPrefixes && HomePaths.All(p => Checkpoint.CantMove.HomePaths.Problem(p) is null)),
            "home paths that are not absolute directories")
        ?? Check(Request is null || ((Request.On == 0 || IsNode(Request.On)) && Request.Among is { Count: <= MaxWishedNodes } among && among.All(IsNode)),
            "a placement wish naming nodes out of range");
}

/// <summary>Target → home: it takes the process. <see cref="Forward"/>: the descriptors of the offer's open files it
/// lacks or has different, which home leaves in the deputy and forwards (none: null).</summary>
public sealed record Accept : MigrationMessage
{
    public IReadOnlyList<int>? Forward { get; init; }

    public override string? Problem() =>
        Check(Forward is null || (Forward.Count <= Offer.MaxFiles && Forward.All(fd => fd >= 0)), "descriptors to forward out of range");
}

public sealed record Refuse(string Reason) : MigrationMessage;

/// <summary>Home → target: a pre-copy round's image follows (Image frames, ImageEnd).</summary>
public sealed record PrecopyRound(int Round) : MigrationMessage
{
    public override string? Problem() => Check(Round > 0, "round must be positive");
}

/// <summary>Target → home: the pre-copy round is in.</summary>
public sealed record RoundTaken : MigrationMessage;

/// <summary>Home → target: the final image follows; the process is frozen at home.</summary>
public sealed record Final : MigrationMessage;

/// <summary>Target → home: the copy exists, frozen, and relays these descriptors; its calls on the
/// <see cref="Forwarded"/> ones come home in Forward frames.</summary>
public sealed record Restored(int RemotePid, IReadOnlyList<int> RelayedOutputs, bool RelaysInput) : MigrationMessage
{
    public IReadOnlyList<int>? Forwarded { get; init; }

    public override string? Problem() =>
        Check(RemotePid > 0, "pid must be positive")
        ?? Check(RelayedOutputs.Count <= 1024 && RelayedOutputs.All(fd => fd is > 0 and < 1024), "relayed descriptors out of range")
        ?? Check(Forwarded is null || (Forwarded.Count <= Linux.Seccomp.ForwardingFilter.MaxForwarded && Forwarded.All(fd => fd is >= 0 and < 1 << 20)),
            "forwarded descriptors out of range");
}

/// <summary>Target → home: a pre-copy round or the restore failed.</summary>
public sealed record Failed(string Reason) : MigrationMessage;

/// <summary>Home → target: let the copy run; checkpoint it every <see cref="CheckpointMs"/> ms (0: never) and send the
/// checkpoints home (docs/reliability.md).</summary>
public sealed record Commit(int CheckpointMs = 0) : MigrationMessage
{
    public override string? Problem() => Check(CheckpointMs >= 0, "checkpoint interval must not be negative");
}

public sealed record Abort(string Reason) : MigrationMessage;

/// <summary>Target → home: the copy runs; the link relays from now on.</summary>
public sealed record Running : MigrationMessage;

/// <summary>Home → target: a signal sent to the deputy, for the copy; with SIGWINCH the terminal's new size.
/// <paramref name="FromProcess"/>: a process sent it (kill), not the terminal (^C), so it is for the process itself
/// rather than its terminal's foreground group.</summary>
public sealed record ForwardSignal(int Signal, byte[]? TerminalSize = null, bool FromProcess = false) : MigrationMessage
{
    public override string? Problem() =>
        Check(Signal is > 0 and < 65, "signal out of range") ?? Check(IsSize(TerminalSize), "terminal size of the wrong length");
}

/// <summary>Target → home: the copy ended so (after all its output). With a terminal for stdin, what it left unread
/// there (<see cref="UnreadInput"/>, in order) and how many bytes of home's input its node took in all
/// (<see cref="InputReceived"/>; -1: none counted): home puts both, and what it sent past that count, back into its
/// terminal for the next reader, as if the process had never moved.</summary>
public sealed record Exited(int Code, int Signal) : MigrationMessage
{
    /// <summary>The most unread terminal input given back (the slave's queue is 4 KiB; the rest waited to be written).</summary>
    public const int MaxUnreadInput = 1 << 20;

    public byte[]? UnreadInput { get; init; }
    public long InputReceived { get; init; } = -1;

    public override string? Problem() =>
        Check(Code is >= 0 and < 256 && Signal is >= 0 and < 65, "exit status out of range")
        ?? Check(UnreadInput is null || UnreadInput.Length <= MaxUnreadInput, "unread input too long")
        ?? Check(InputReceived >= -1, "input count out of range");
}

/// <summary>Target → home: please move the process on to <see cref="Target"/> (home's own id: bring it home).</summary>
public sealed record MoveRequest(int Target, string Reason, long MemoryBytes) : MigrationMessage
{
    public override string? Problem() =>
        Check(Target is >= 0 and <= ushort.MaxValue, "target node out of range") ?? Check(MemoryBytes >= 0, "memory must not be negative");
}

/// <summary>Home → target: the move asked for did not happen; the process stays.</summary>
public sealed record MoveFailed(string Reason) : MigrationMessage;

/// <summary>Home → target: send the process home; with pre-copy, in up to <see cref="Rounds"/> rounds while it runs on
/// there, then frozen for what changed since.</summary>
public sealed record ComeHome(bool Precopy = false, int Rounds = 0) : MigrationMessage
{
    public const int MaxRounds = 64;

    public override string? Problem() => Check(Rounds is >= 0 and <= MaxRounds, "pre-copy rounds out of range");
}

/// <summary>Target → home: the process is frozen and its image follows.</summary>
public sealed record ImageFollows : MigrationMessage;

/// <summary>Target → home, as the copy's stdin takes what home relays: how much was written into it so far. Home relays
/// no more than a window ahead of it, so that the link never holds more input than a trip home can wait behind.</summary>
public sealed record InputWritten(long Written) : MigrationMessage
{
    public override string? Problem() => Check(Written >= 0, "input count out of range");
}

/// <summary>
/// Target → home, after the image of the trip home: how much of the input home relayed the target wrote into the
/// copy's stdin (every stdio frame after that count is dropped there), how much of it the frozen copy left unread, and
/// whether the end of input reached it. Home puts back in front of the process's stdin what the copy did not read if it
/// comes home, and sends again what the target dropped if it stays: each byte reaches the process once.
/// </summary>
public sealed record InputTaken(long Written, long Unread, bool Ended) : MigrationMessage
{
    public override string? Problem() => Check(Written >= 0 && Unread >= 0 && Unread <= Written, "input counts out of range");
}

/// <summary>Home → target: the process runs at home now; its copy there ends.</summary>
public sealed record WelcomeHome : MigrationMessage;

/// <summary>
/// Target → home, after the welcome home: signals that reached the frozen copy there after its image was read (each
/// queued instance, in order), which the image does not hold and the copy's end would lose; home sends them to the
/// process. Sent only when there are some; a home that closed the link already (an older omd) never reads it.
/// </summary>
public sealed record SignalsAfterImage(IReadOnlyList<int> Signals) : MigrationMessage
{
    public const int Max = 4096;

    public override string? Problem() => Check(Signals is { Count: > 0 and <= Max } && Signals.All(s => s is >= 1 and <= 64),
        "signals after the image out of range");
}

/// <summary>Home → target: it could not be rebuilt at home; it runs on there.</summary>
public sealed record Stay(string Reason) : MigrationMessage;

/// <summary>Home → copy: the process was locked or unlocked at home (the lock file of its /proc view) while away: its
/// node's balancer heeds it from now on, and what the copy forks from now on inherits it.</summary>
public sealed record LockChanged(bool Locked) : MigrationMessage;

/// <summary>Target → home: the copy was stopped (by <paramref name="Signal"/>) or continued on its node, by a signal
/// sent there and not by home: its deputy stops or goes on with it, so that its parent and shell see what it does.</summary>
public sealed record CopyJobState(bool Stopped, int Signal) : MigrationMessage
{
    /// <summary>The node protocol version from which the home node knows this message: none is sent on an older link.</summary>
    public const byte SinceProtocol = 7;

    public override string? Problem() => Stopped ? Check(Signal is > 0 and < 65, "stop signal out of range") : Check(Signal == 0, "a resumption has no signal");
}

/// <summary>Target → home: the copy set its terminal's modes (struct termios), for the real terminal at home.</summary>
public sealed record TerminalModesChanged(byte[] Modes) : MigrationMessage
{
    public override string? Problem() => Check(Modes.Length == Terminal.TermiosSize, "terminal modes of the wrong length");
}

/// <summary>Target → home, about once a second: the copy's CPU time on this node so far and its resident memory, for
/// `om ps` at home (a copy's counters start at zero on every node: home adds up the stays), and how much of the input
/// home relayed the copy has read (home forgets what it kept of that input to put back should the copy come home).</summary>
public sealed record Usage(double CpuSeconds, long ResidentBytes, long InputRead = 0) : MigrationMessage
{
    public override string? Problem() =>
        Check(double.IsFinite(CpuSeconds) && CpuSeconds >= 0 && CpuSeconds < 1e12 && ResidentBytes >= 0 && InputRead >= 0, "usage out of range");
}

/// <summary>
/// Target → home, while relaying: a checkpoint of the copy follows, taken by a brief freeze. <see cref="Whole"/>: a
/// pre-copy round with every touched page first (write tracking starts anew), then the final image; otherwise only
/// the final image, which carries the pages written since the last checkpoint. Its counts follow it
/// (<see cref="CheckpointCounts"/>); control messages sent meanwhile by the target's other tasks may come between its
/// frames.
/// </summary>
public sealed record CheckpointFollows(long Sequence, bool Whole) : MigrationMessage
{
    public override string? Problem() => Check(Sequence > 0, "checkpoint sequence must be positive");
}

/// <summary>How many bytes the process had written to one relayed output when it was frozen for a checkpoint.</summary>
public sealed record OutputCount(int Fd, long Bytes);

/// <summary>
/// Target → home, after a checkpoint's images: at the freeze, how many bytes the process had written to each relayed
/// output this stay (read by the relay plus what sat in the pipe) and how much of its input it had read. A restart
/// from this checkpoint writes again from those counts on, and reads again from that input on.
/// </summary>
public sealed record CheckpointCounts(long Sequence, IReadOnlyList<OutputCount> Outputs, long InputRead) : MigrationMessage
{
    public override string? Problem() =>
        Check(Sequence > 0, "checkpoint sequence must be positive")
        ?? Check(Outputs.Count <= 1024 && Outputs.All(o => o.Fd is > 0 and < 1024 && o.Bytes >= 0), "output counts out of range")
        ?? Check(InputRead >= 0, "input count out of range");
}

/// <summary>Home → target: the checkpoint is kept (null reason), or refused with why (the next one is taken whole).</summary>
public sealed record CheckpointStored(long Sequence, string? Refused = null) : MigrationMessage
{
    public override string? Problem() => Check(Sequence > 0, "checkpoint sequence must be positive");
}

/// <summary>
/// Home → target, first on a new link from an omd that took over home after the last one ended without a drain
/// (SIGKILL, a crash): the copy of process <see cref="HomePid"/> running there as <see cref="RemotePid"/> is relayed
/// on this link from now on. <see cref="Delivered"/>: how much of each relayed output home has delivered, so the
/// target sends again what it sent after that; <see cref="CheckpointMs"/> as in <see cref="Commit"/>.
/// </summary>
public sealed record Resume(int HomePid, int RemotePid, IReadOnlyList<OutputCount> Delivered, int CheckpointMs = 0) : MigrationMessage
{
    public override string? Problem() =>
        Check(HomePid > 0 && RemotePid > 0, "pid must be positive")
        ?? Check(Delivered.Count <= 1024 && Delivered.All(o => o.Fd is > 0 and < 1024 && o.Bytes >= 0), "output counts out of range")
        ?? Check(CheckpointMs >= 0, "checkpoint interval must not be negative");
}

/// <summary>Target → home: the copy is relayed on this link again; <see cref="InputReceived"/> bytes of its input
/// reached the target this stay (home relays what follows them).</summary>
public sealed record Resumed(long InputReceived) : MigrationMessage
{
    public override string? Problem() => Check(InputReceived >= 0, "input count out of range");
}

/// <summary>
/// Target → home, while relaying: may a checkpoint be sent now? Taking it in costs home CPU, disk and network, which
/// must not stretch the freezes of processes home is moving out meanwhile (docs/reliability.md).
/// </summary>
public sealed record CheckpointAsk(long Sequence) : MigrationMessage
{
    public override string? Problem() => Check(Sequence > 0, "checkpoint sequence must be positive");
}

/// <summary>Home → target: send it (<see cref="Wait"/> null), or not now, and why (the next tick asks again).</summary>
public sealed record CheckpointGo(long Sequence, string? Wait = null) : MigrationMessage
{
    public override string? Problem() => Check(Sequence > 0, "checkpoint sequence must be positive");
}

/// <summary>One process the copy forked on its node (or a descendant of one), as home lists it: its PID on that node
/// (its birth node: where its deputy stays if it moves on), the PID home knows its parent by (the deputy's for the
/// copy's own children), where it runs now and under which PID there, and what it uses.</summary>
public sealed record ForkedChild(int Pid, int ParentPid, int Uid, int Where, int RemotePid, string State, string Command,
    double CpuSeconds, long MemoryBytes)
{
    public const int MaxCommand = 4096;

    public static readonly IReadOnlySet<string> States = new HashSet<string>(StringComparer.Ordinal) { "home", "migrating", "remote", "lost" };

    public bool IsValid() =>
        Pid > 0 && ParentPid > 0 && Uid >= 0 && Where is > 0 and <= ushort.MaxValue && RemotePid >= 0 && States.Contains(State)
        && Command.Length <= MaxCommand && double.IsFinite(CpuSeconds) && CpuSeconds is >= 0 and < 1e12 && MemoryBytes >= 0;
}

/// <summary>
/// Target → home, with the copy's usage and whenever they change: every process the copy forked there that still
/// runs, at any depth (remote fork). Each report is whole, so one lost with a broken link, or a child that ended,
/// leaves nothing stale: home lists exactly these, with its own node as their home.
/// </summary>
public sealed record ForkedThere(IReadOnlyList<ForkedChild> Children) : MigrationMessage
{
    public const int MaxChildren = 4096;

    public override string? Problem() =>
        Check(Children.Count <= MaxChildren, $"more than {MaxChildren} children")
        ?? Check(Children.All(c => c.IsValid()), "a child's fields out of range")
        ?? Check(Children.Select(c => c.Pid).Distinct().Count() == Children.Count, "a child listed twice");
}

/// <summary>Home → target: a signal for <see cref="Pid"/>, a process the copy forked there (`om kill` at home). The
/// target sends it only to a process it reported in <see cref="ForkedThere"/> for this copy.</summary>
public sealed record SignalForked(int Pid, int Signal) : MigrationMessage
{
    public override string? Problem() => Check(Pid > 0, "pid must be positive") ?? Check(Signal is > 0 and < 65, "signal out of range");
}

/// <summary>Home → target: `om migrate` at home of <see cref="Pid"/>, a process the copy forked there: that node moves it
/// to <see cref="Target"/> (a node id, "home" for its birth node, where its deputy and its parent are, or "balance") as
/// it moves a process of its own, and answers <see cref="ForkedMoved"/>.</summary>
public sealed record MoveForked(int Pid, string Target, bool? Precopy = null) : MigrationMessage
{
    public override string? Problem() =>
        Check(Pid > 0, "pid must be positive")
        ?? Check(Target is "home" or "balance" || (Target.Length is > 0 and <= 5 && Target.All(char.IsAsciiDigit)), "target is not a node id, home or balance");
}

/// <summary>Target → home: how the move of <see cref="Pid"/> asked for by <see cref="MoveForked"/> ended: its result, or
/// why not (<see cref="Refused"/>: it did not start, as `om migrate` tells a refusal from a failure).</summary>
public sealed record ForkedMoved(int Pid, MigrationResult? Result = null, string? Error = null, bool Refused = false) : MigrationMessage
{
    public const int MaxError = 1024;

    public override string? Problem() =>
        Check(Pid > 0, "pid must be positive")
        ?? Check((Result is null) != (Error is null), "a result or an error, one of them")
        ?? Check(Error is null || (Error.Length <= MaxError && !Error.Contains('\n', StringComparison.Ordinal)), "error longer than one line");
}

/// <summary>
/// Target → home, instead of <see cref="Exited"/> when processes the copy forked there outlive it: the copy ended so
/// (after all the output it wrote), and the link stays for those processes (remote fork): their output, their reports
/// (<see cref="ForkedThere"/>) and home's signals and moves for them, until the last one ends and the target closes it.
/// </summary>
public sealed record Outlived(int Code, int Signal) : MigrationMessage
{
    public override string? Problem() => Check(Code is >= 0 and < 256 && Signal is >= 0 and < 65, "exit status out of range");
}

// Strict on purpose: both ends are this code, so a missing or extra field is a broken peer, not a version to tolerate.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(MigrationMessage))]
internal sealed partial class MigrationJsonContext : JsonSerializerContext;
