using System.Net;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Home;
using OpenMosix.Daemon.Migration.Protocol;
using PostcopyMode = OpenMosix.Daemon.Migration.Postcopy.PostcopyMode;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The home side: moves a managed process to another node (<see cref="OutgoingMove"/>) and then stands in for it
/// (<see cref="HomeRelay"/>): its descriptors relay the copy's stdio, signals sent to it are forwarded, and it ends
/// with the copy's exit status, or as if SIGKILLed when the copy's node dies. It brings the process home, or on to
/// another node, when asked (<see cref="ReturnTrip"/>, <see cref="MoveOnRequests"/>).
/// </summary>
public sealed partial class HomeMigration : Balancing.IProcessMover
{
    private readonly HomeSide _home;
    private readonly Func<ushort, IPEndPoint?> _endpointOf;
    private readonly Func<ClusterView> _viewOf;
    private readonly LinkSecurity _security;
    private readonly RunPlacement _placement;
    private readonly ReturnTrip _trip;
    private readonly MoveOnRequests _moveOn;

    public HomeMigration(IMigrationEngine engine, IDeputyHost deputies, ProcessRegistry registry, Func<ushort> selfNode,
        Func<ushort, IPEndPoint?> endpointOf, Func<ClusterView> viewOf, LinkSecurity security, ILogger logger)
    {
        _home = new HomeSide(engine, deputies, registry, selfNode, logger);
        _endpointOf = endpointOf;
        _viewOf = viewOf;
        _security = security;
        _placement = new RunPlacement(registry, selfNode, viewOf, (process, target) => MigrateAsync(process, target, CancellationToken.None), logger);
        _trip = new ReturnTrip(_home);
        _moveOn = new MoveOnRequests(_home, process => BringHomeAsync(process), (process, target) => MoveAsync(process, target, CancellationToken.None), NoRoomFor);
        // Restored here frozen once, it goes on frozen once more: pre-copy would only lengthen its time here.
        _home.MoveOut = (process, target) => MigrateAsync(process, target, CancellationToken.None, precopy: false);
    }

    /// <summary>
    /// With it, a process restarted here from its checkpoint goes on at once to the node where it runs fastest with
    /// its memory (<see cref="OpenMosix.Balancing.Policy.StartPlacement.Fastest"/>), home when none is better; null:
    /// it stays here, as when balancing is off.
    /// </summary>
    public OpenMosix.Balancing.BalancerOptions? RestartPlacement
    {
        init => _home.RestartTarget = value is null ? null : (process, lost) => RestartTarget(process, lost, value);
    }

    private ushort? RestartTarget(ManagedProcess process, ushort lost, OpenMosix.Balancing.BalancerOptions options)
    {
        var nodes = _viewOf().Nodes.Where(n => n.Id != lost).Select(Balancing.ClusterViews.ToView).ToList();
        long memory;
        try
        {
            memory = Linux.Proc.ProcFs.ReadResidentBytes(process.Pid);
        }
        catch (IOException)
        {
            return null;
        }
        return OpenMosix.Balancing.Policy.StartPlacement.Fastest(_home.Self, nodes, options, memory);
    }

    /// <summary>Copy memory while the process runs and freeze it only for the rest (migration.precopy).</summary>
    public bool Precopy { get; init; } = true;
    /// <summary>Directories whose files stay this node's ([files] home_paths): told to targets in the offer.</summary>
    public IReadOnlyList<string> HomePaths
    {
        get => _home.HomePaths.Prefixes;
        init => _home.HomePaths = new Checkpoint.CantMove.HomePaths(value);
    }
    /// <summary>Whether the sockets a moved process creates away are made here (forwarding.sockets_created_away).</summary>
    public bool SocketsAtHome
    {
        get => _home.SocketsAtHome;
        init => _home.SocketsAtHome = value;
    }
    /// <summary>Whether root's processes (a uid 0, or capabilities) may leave this node (migration.allow_root_guests).</summary>
    public bool AllowRoot { get; init; }
    /// <summary>Heartbeats and timeout of the links to targets ([liveness]); null: none.</summary>
    public LinkLiveness? Liveness { get; init; }
    /// <summary>Closed while omd stops: no move out begins then (trips home still do).</summary>
    public StopGate? Gate { get; init; }
    /// <summary>Most pre-copy rounds (migration.precopy_rounds).</summary>
    public int PrecopyRounds { get; init; } = 4;
    /// <summary>migration.postcopy: when a move out starts the copy before its memory is there.</summary>
    public PostcopyMode Postcopy { get; init; } = PostcopyMode.Auto;
    /// <summary>MiB/s a move out sends at most (migration.bandwidth_limit_mib_s); 0: no limit.</summary>
    public int BandwidthLimit
    {
        get => _home.BandwidthLimit;
        init => _home.BandwidthLimit = value;
    }
    /// <summary>The link speed the auto choice of post-copy assumes (balance.link_mb_per_second).</summary>
    public double LinkBytesPerSecond { get; init; } = 100e6;

    /// <summary>This node's memory (total, free) now; with it, a process is brought home on its way to another node
    /// only if it fits here, keeping <see cref="KeepFreeFraction"/> free.</summary>
    public Func<(ulong Total, ulong Free)>? LocalMemory
    {
        get => _localMemory;
        init
        {
            _localMemory = value;
            _home.Memory = () => value?.Invoke() is var (total, free) ? new Checkpoints.NodeMemory(total, free) : null;
        }
    }

    private readonly Func<(ulong Total, ulong Free)>? _localMemory;

    public double KeepFreeFraction { get => _home.KeepFreeFraction; init => _home.KeepFreeFraction = value; }

    /// <summary>Told of every move out and every trip home once it ends, moved or not (the dashboard's history).</summary>
    public Action<MoveEnded>? MoveEnded { get; init; }

    /// <summary>Where this node's moves are counted as they end (/metrics).</summary>
    public MigrationCounters Counters { get => _home.Counters; init => _home.Counters = value; }

    /// <summary>
    /// Processes of this node running away are checkpointed every <paramref name="interval"/> into
    /// <paramref name="directory"/> and restarted here from there if their node dies (zero: neither).
    /// </summary>
    public void EnableCheckpoints(TimeSpan interval, string directory)
    {
        if (interval <= TimeSpan.Zero) return;
        var store = new Checkpoints.CheckpointStore(directory);
        store.Prepare();
        _home.Checkpoints = store;
        _home.CheckpointEvery = interval;
    }

    /// <summary>
    /// Processes running away are saved in <paramref name="runDirectory"/> as they go and come (away.json), so that an
    /// omd started after this one died without a drain takes them over (<see cref="TakeOverAsync"/>).
    /// </summary>
    public void EnableTakeover(string runDirectory, ILogger logger) => _home.Away = new AwayStateFile(runDirectory, logger);

    /// <summary>
    /// Takes over the processes away the last omd left (away.json), trying to reach each one's node for at most
    /// <paramref name="window"/>; those not taken over are lost (their deputies end as if killed).
    /// </summary>
    public Task TakeOverAsync(TimeSpan window)
    {
        if (_home.Away is not { } away) return Task.CompletedTask;
        var takeover = new HomeTakeover(_home, _security, Liveness, _trip, _moveOn);
        // The same resume serves a process whose copy's omd died (killed without a drain) and was replaced.
        _home.ResumeAway = (process, saved, counts, ledger) => takeover.ResumeAsync(process, saved, counts, window, ledger);
        return takeover.RunAsync(away.Load(), window);
    }

    public void Start()
    {
        _home.Deputies.SignalArrived += (pid, signal) =>
        {
            if (_home.Relays.Find(pid) is not { } relay)
            {
                _home.SignalsOnHold.TryHold(pid, signal);
                return;
            }
            // A window size change: the copy's terminal must have the new size when the copy asks for it.
            var size = signal.Number == Signals.SIGWINCH && relay.Terminal is { IsClosed: false } terminal ? Terminal.ReadSize(terminal) : null;
            relay.Forward(signal, size);
        };
        // SIGKILL at home: the copy dies with it. Said on the link, its node kills it at once and reports its end; the
        // link closed alone reads there as home's omd gone, which that node takes seconds to tell from this (its probe of
        // home's port and the grace for a new omd's resume, GuestTakeover), the copy running on meanwhile.
        _home.Deputies.DeputyDied += pid =>
        {
            if (_home.Relays.Find(pid) is not { } relay)
            {
                // Killed before its relay started (or while its copy waits to be resumed): held as the copy's SIGKILL,
                // forwarded first when the relay starts, as a signal to the deputy then would be. Before, it was lost
                // and the copy ran on.
                _home.SignalsOnHold.TryHold(pid, new ArrivedSignal(Signals.SIGKILL));
                return;
            }
            if (relay.KillCopy()) _ = CloseUnlessEndedAsync(pid, relay);
            else relay.Talk.Link.Dispose();
        };
    }

    /// <summary>How long home waits, its deputy killed, for the copy's node to report the copy's end before it closes
    /// the link (which ends the copy too, later).</summary>
    public TimeSpan CopyKillPatience { get; init; } = TimeSpan.FromSeconds(5);

    private async Task CloseUnlessEndedAsync(int pid, RelayState relay)
    {
        await Task.Delay(CopyKillPatience).ConfigureAwait(false);
        // Still relaying the same copy: its node did not answer (a copy that outlived it by its forks left the table).
        if (_home.Relays.Find(pid) == relay) await relay.Talk.Link.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The process was locked or unlocked here: if it runs away, its copy is told (<see cref="RelayState.ChangeLock"/>).</summary>
    public void LockChanged(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        _home.Relays.Find(process.Pid)?.ChangeLock(process.Locked);
    }

    /// <inheritdoc cref="RunPlacement.PlaceAfterExec"/>
    public void PlaceAfterExec(ManagedProcess process, RunRequest placement) => _placement.PlaceAfterExec(process, placement);

    /// <inheritdoc cref="RunPlacement.WaitForExecAsync"/>
    public static Task WaitForExecAsync(ManagedProcess process) => RunPlacement.WaitForExecAsync(process);

    /// <summary>
    /// Moves a process to <paramref name="target"/>: a node id, "home", or "balance" (the least loaded other alive
    /// node, until the balancer decides). Throws <see cref="ArgumentException"/> for a target that makes no sense.
    /// </summary>
    public Task<MigrationResult> MoveAsync(ManagedProcess process, string target, CancellationToken cancel, bool? precopy = null,
        IProgress<MigrationProgress>? progress = null, PostcopyMode? postcopy = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(target);
        var view = _viewOf();
        ushort node;
        if (target == "home") node = process.Home;
        else if (target == "balance")
            node = Placement.LeastLoaded(view) ?? throw new MigrationException("no other node is alive to balance to");
        else if (!ushort.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out node) || node == 0)
            throw new ArgumentException($"'{target}' is not a node id, home or balance");
        if (node == process.Where)
            throw new MigrationException($"process {process.Pid} already runs on node {node}");
        if (view.Nodes.FirstOrDefault(n => n.Id == node) is not { } entry)
            throw new MigrationException($"node {node} is not in the map");
        if (!Placement.IsAlive(view, node))
            throw new MigrationException($"node {node} is {entry.State.Name()}");
        if (node == _home.Self || process.State == ProcessState.Remote)
            progress?.Report(new MigrationProgress(MigrationProgress.Home, 0, 0, 0));
        if (node == _home.Self) return BringHomeAsync(process, precopy);
        if (process.State == ProcessState.Remote)
            return ViaHomeAsync(process, node, cancel, precopy, progress, postcopy);
        return MigrateAsync(process, node, cancel, precopy, progress, postcopy);
    }

    /// <summary>From one remote node to another: home first (a moment at home, frozen), then out again.</summary>
    private async Task<MigrationResult> ViaHomeAsync(ManagedProcess process, ushort node, CancellationToken cancel, bool? precopy,
        IProgress<MigrationProgress>? progress, PostcopyMode? postcopy)
    {
        var from = process.Where;
        await BringHomeAsync(process, precopy).ConfigureAwait(false);
        var result = await MigrateAsync(process, node, cancel, precopy, progress, postcopy).ConfigureAwait(false);
        return result with { From = from };
    }

    /// <summary>
    /// Moves a process at home to <paramref name="target"/>. A process om run registered is moved once it runs its
    /// program (moving om itself would be pointless); one whose address space went away under the copy (it executed
    /// a new program while its pre-copy ran: the kernel answers ESRCH on the old pagemap handle) is tried once more,
    /// since what was copied is void and the process runs on unharmed.
    /// </summary>
    public Task<MigrationResult> MigrateAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy = null) =>
        MigrateAsync(process, target, cancel, precopy, null);

    /// <inheritdoc cref="MigrateAsync(ManagedProcess, ushort, CancellationToken, bool?)"/>
    /// <param name="progress">Hears how far the move has got (`om migrate` shows it on a terminal).</param>
    /// <param name="postcopy">migration.postcopy for this move; null: as configured (<see cref="Postcopy"/>).</param>
    public Task<MigrationResult> MigrateAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy,
        IProgress<MigrationProgress>? progress, PostcopyMode? postcopy = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        return Reported(process, target, () => MigrateOnceOrTwiceAsync(process, target, cancel, precopy, progress, postcopy ?? Postcopy));
    }

    private async Task<MigrationResult> MigrateOnceOrTwiceAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy,
        IProgress<MigrationProgress>? progress, PostcopyMode postcopy)
    {
        await WaitForExecAsync(process).ConfigureAwait(false);
        try
        {
            return await MigrateOnceAsync(process, target, cancel, precopy, progress, postcopy).ConfigureAwait(false);
        }
        catch (MigrationException e) when (ProcessReplacedException.Explains(e, process.Pid))
        {
            HomeLog.ExecutedDuringMove(_home.Logger, process.Pid, target);
            return await MigrateOnceAsync(process, target, cancel, precopy, progress, postcopy).ConfigureAwait(false);
        }
    }

    private async Task<MigrationResult> MigrateOnceAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy,
        IProgress<MigrationProgress>? progress, PostcopyMode postcopy, TreeGate? tree = null)
    {
        var clock = new MoveClock();
        if (OutwardRefusal(process, target) is { } refused) throw refused;
        clock.Mark("checks");
        var endpoint = _endpointOf(target) ?? throw new MigrationException($"node {target} is not in the map");

        NodeLink link;
        try
        {
            link = await NodeLink.ConnectAsync(endpoint, _home.Self, target, _security, cancel, Liveness).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            HomeLog.LinkFailed(_home.Logger, target, e.Message);
            throw new MigrationException($"node {target}: {e.Message}", e);
        }
        clock.Mark("link");
        LinkLog.WhenOlder(_home.Logger, link, "to");
        var keepLink = false;
        try
        {
            var talk = new Conversation(link, Side.Home);
            using var moving = _home.MovingOut();
            var (result, restored, hold) = await new OutgoingMove(_home, process, target, talk, progress) { Gate = tree, Clock = clock }
                .RunAsync(precopy ?? Precopy, PrecopyRounds, postcopy, LinkBytesPerSecond, cancel).ConfigureAwait(false);
            HomeRelay.Begin(_home, process, target, talk, restored, _trip, _moveOn, endpoint, hold);
            keepLink = true;
            clock.Mark("relay");
            HomeLog.Moved(_home.Logger, process.Pid, target, result.RemotePid, result.ImageBytes >> 20, result.FrozenMs,
                result.PrecopyRounds, result.PrecopyBytes >> 20);
            HomeLog.MovePhases(_home.Logger, process.Pid, target, clock.ToString());
            return result;
        }
        finally
        {
            if (!keepLink) await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Why <paramref name="process"/> cannot leave for <paramref name="target"/> now (its cantmove reasons, kept
    /// in its row), or null: asked before anything is sent.</summary>
    private MigrationException? OutwardRefusal(ManagedProcess process, ushort target)
    {
        if (target == _home.Self) return new MigrationException($"process {process.Pid} is already home") { Refused = true };
        if (Gate?.OutwardRefusal(process.Pid) is { } stopping) return new MigrationException(stopping) { Refused = true };
        if (process.State != ProcessState.Home)
            return new MigrationException($"process {process.Pid} is {process.State.ToString().ToLowerInvariant()}, not at home") { Refused = true };
        var report = _home.Engine.AnalyzeCantMove(process.Pid);
        if (!AllowRoot && ProcessOwner.Of(process.Pid) is { IsRoot: true } owner)
            report = new(process.Pid, [.. report.Reasons, $"is root's ({owner.Describe()}): root processes move only with migration.allow_root_guests = true"]);
        _home.Registry.Update(process, p => p.CantMove = report.Reasons);
        return report.CanMove ? null : new MigrationException($"process {process.Pid} cannot move: {string.Join("; ", report.Reasons)}") { Refused = true };
    }

    /// <summary>
    /// Brings a moved process home: its node pre-copies it while it runs on (unless <paramref name="precopy"/> or
    /// migration.precopy says not to), freezes it and streams the rest of its image back, and it is rebuilt into its
    /// deputy (same PID, same parent, its own descriptors). If that fails it runs on where it was.
    /// </summary>
    public Task<MigrationResult> BringHomeAsync(ManagedProcess process, bool? precopy = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        return Reported(process, _home.Self, async () =>
        {
            if (LeavesChildren(process) is { } refused) throw refused;
            await WaitForPagesAsync(process).ConfigureAwait(false);
            return await _trip.BringHomeAsync(process, precopy ?? Precopy, PrecopyRounds).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// A copy away that has children it forked on its node cannot leave them: its deputy there would be needed as their
    /// parent, and a node keeps deputies only for its own processes (moving a process tree between nodes is not done).
    /// Refused before anything is asked of its node, by the children its node last reported; one forked since is found
    /// there when the copy is frozen, and the trip is refused then.
    /// </summary>
    private MigrationException? LeavesChildren(ManagedProcess process)
    {
        if (process.State != ProcessState.Remote || _home.Relays.Find(process.Pid) is not { } route) return null;
        var children = _home.Registry.ForkedAway.ChildrenOf(route);
        if (children.Count == 0) return null;
        var which = children.Count == 1 ? $"a child process ({children[0]})" : $"{children.Count} child processes ({string.Join(", ", children.Take(5))}{(children.Count > 5 ? ", ..." : "")})";
        return new MigrationException($"process {process.Pid} cannot move: it has {which} on node {process.Where} that it forked there and has not " +
            "waited for; a parent away from home moves only without children on its node (moving a process tree between nodes is not done yet)")
        { Refused = true };
    }

    /// <summary>
    /// A copy still fetching its memory from here (post-copy) does not travel on: half its memory is here, in the
    /// frozen original. A trip home (`om migrate PID home`, a drain, mosctl bring) or a move on (the node's balancer,
    /// expel) waits until it holds every page; if the post-copy breaks meanwhile, the original runs here and the move
    /// is refused with that reason.
    /// </summary>
    private async Task WaitForPagesAsync(ManagedProcess process)
    {
        if (_home.Relays.Find(process.Pid)?.Postcopy is not { Over.IsCompleted: false } hold) return;
        var from = process.Where;
        HomeLog.WaitsForPostcopy(_home.Logger, process.Pid, from);
        try
        {
            await hold.Over.WaitAsync(ReturnTrip.Limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new MigrationException($"process {process.Pid}'s copy on node {from} still fetches its memory from here (post-copy) after {ReturnTrip.Limit.TotalMinutes:F0} min");
        }
        if (process.State != ProcessState.Remote)
            throw new MigrationException($"process {process.Pid} runs here again: its post-copy to node {from} broke while the move waited for it") { Refused = true };
    }

    /// <summary>
    /// Runs a move and tells <see cref="MoveEnded"/> and, for a move out, <see cref="Counters"/> how it ended; a
    /// failure still reaches the caller. Trips home are counted where they end (ReturnTrip), which also sees those
    /// the copy's node starts.
    /// </summary>
    private async Task<MigrationResult> Reported(ManagedProcess process, ushort target, Func<Task<MigrationResult>> move)
    {
        var (from, command) = (process.Where, process.Command);
        var outward = target != _home.Self;
        try
        {
            var result = await move().ConfigureAwait(false);
            if (outward) Counters.Moved(MigrationDirection.Out, TimeSpan.FromMilliseconds(result.FrozenMs));
            MoveEnded?.Invoke(new(DateTimeOffset.UtcNow, process.Pid, command, result.From, result.To, result, null));
            return result;
        }
        catch (Exception e)
        {
            if (outward) Counters.Count(MigrationDirection.Out, e is MigrationException { Refused: true } ? MigrationOutcome.Refused : MigrationOutcome.Failed);
            if (e is not OutOfMemoryException) MoveEnded?.Invoke(new(DateTimeOffset.UtcNow, process.Pid, command, from, target, null, e.Message));
            throw;
        }
    }

    /// <summary>Why a process of <paramref name="memory"/> bytes cannot pass through here now, or null.</summary>
    private string? NoRoomFor(ulong memory) =>
        LocalMemory?.Invoke() is var (total, free) && free < memory + total * KeepFreeFraction
            ? $"home (node {_home.Self}) has no room for its {memory >> 20} MiB on the way ({free >> 20} MiB free)"
            : null;
}
