using OpenMosix.Checkpoint.Restore;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The target side of one migration, and then of the guest's whole stay: accept or refuse the offer
/// (<see cref="OfferCheck"/>), restore the image as it streams in, frozen (<see cref="IncomingRestore"/>), let it run
/// when home commits, then relay it (<see cref="GuestRelay"/>) until it exits, goes home or loses its home.
/// </summary>
public sealed class GuestSession
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly Conversation _talk;
    private readonly IMigrationEngine _engine;
    private readonly ProcessRegistry _registry;
    private readonly Func<ulong> _freeMemory;
    private readonly ILogger _logger;
    private MoveRequests _moves;

    public GuestSession(NodeLink link, IMigrationEngine engine, ProcessRegistry registry, Func<ulong> freeMemory, ILogger logger)
    {
        _talk = new Conversation(link, Side.Guest);
        _engine = engine;
        _registry = registry;
        _freeMemory = freeMemory;
        _logger = logger;
        _moves = new MoveRequests(_talk);
    }

    /// <summary>Whether this node is blocked (mosctl block): it then refuses every process offered to it.</summary>
    public Func<bool> Blocked { get; init; } = () => false;

    /// <summary>Closed while omd stops: every offer is refused then.</summary>
    public StopGate? Gate { get; init; }

    /// <summary>Which owners' processes this node takes from which home (omd.toml [migration]).</summary>
    public GuestPolicy Policy { get; init; } = GuestPolicy.Default;

    /// <summary>Where this node's balancer and mosctl expel find the guest to ask its home to move it on.</summary>
    public GuestDirectory? Directory { get; init; }

    /// <summary>Memory promised to guests on their way here: an offer is weighed against what is left of it.</summary>
    public MemoryReservations? Reservations { get; init; }

    /// <summary>What the guest's periodic checkpoints wait for (memory here and at home); null: they never wait.</summary>
    public Checkpoints.CheckpointConditions? CheckpointConditions { get; init; }

    /// <summary>Where arrivals are counted (/metrics).</summary>
    public MigrationCounters? Counters { get; init; }

    /// <summary>Where guests whose home's omd went away wait for a new one to take them over; null: they are killed.</summary>
    public GuestResumes? Resumes { get; init; }

    /// <summary>How long such a guest waits, stopped, before it is killed (liveness.takeover_window_ms).</summary>
    public TimeSpan TakeoverWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How guests are kept for an omd started after this one dies without a drain; null: they die with it.</summary>
    public GuestKeeping? Keeping { get; init; }

    /// <summary>Where a home node's omd listens, to tell a node that is up (its omd gone) from one that is not.</summary>
    public Func<ushort, System.Net.IPEndPoint?>? HomeEndpoint { get; init; }

    /// <summary>How this node moves a process a guest forked here when the guest's home asks (remote fork: `om migrate`
    /// at home); null: such requests are turned down.</summary>
    public Func<ManagedProcess, string, bool?, Task<MigrationResult>>? MoveForked { get; init; }

    /// <summary>MiB/s this node fetches a post-copied guest's memory in the background, and sends a guest's image
    /// home, at most (migration.bandwidth_limit_mib_s); 0: no limit.</summary>
    public int BandwidthLimit { get; init; }

    /// <summary>Where the conversation with home is (for tests and diagnostics).</summary>
    public MigrationPhase Phase => _talk.Phase;

    public async Task RunAsync(CancellationToken cancel)
    {
        var clock = new MoveClock();
        var first = await _talk.ReceiveAsync(AnswerTimeout).ConfigureAwait(false);
        clock.Mark("offer");
        if (first is Resume resume)
        {
            await GuestTakeover.HandAsync(Resumes, _talk, resume, _logger, cancel).ConfigureAwait(false);
            return;
        }
        var offer = (Offer)first;
        using var pipes = new RelayPipes(offer.TerminalModes, offer.TerminalSize);
        if ((Gate?.GuestRefusal() ?? Policy.Refusal((ushort)offer.HomeNode, offer.Owner) ?? OfferCheck.Refusal(offer, Blocked(), _freeMemory(), Reservations?.Reserved ?? 0)) is { } reason)
        {
            GuestLog.Refused(_logger, offer.Pid, offer.HomeNode, reason);
            Counters?.Count(MigrationDirection.In, MigrationOutcome.Refused);
            await _talk.SendAsync(new Refuse(reason), cancel).ConfigureAwait(false);
            return;
        }
        using var reservation = Reservations?.Reserve(offer.MemoryBytes);
        var lacking = OfferCheck.Lacking(offer);
        if (lacking is { Count: > 0 }) _logger.LogInformation("Process {Pid} from node {Home}: this node lacks or has other files for fd {Fds}, which stay at home",
            offer.Pid, offer.HomeNode, string.Join(", ", lacking));
        await _talk.SendAsync(new Accept { Forward = lacking }, cancel).ConfigureAwait(false);
        clock.Mark("accept");

        var restored = await IncomingRestore.RunAsync(_engine, _talk, pipes, image => GuestAdmission.ImageRefusal(offer.Owner!, image),
            (why, refused) =>
            {
                if (refused) GuestLog.Refused(_logger, offer.Pid, offer.HomeNode, why);
                else GuestLog.RestoreFailed(_logger, offer.Pid, offer.HomeNode, why);
                Counters?.Count(MigrationDirection.In, refused ? MigrationOutcome.Refused : MigrationOutcome.Failed);
            }, cancel, forwardPaths: offer.HomePaths is { Count: > 0 }, forwardSockets: offer.SocketsAtHome,
                pushPacer: BandwidthPacer.ForLimit(BandwidthLimit), mark: clock.Mark).ConfigureAwait(false);
        if (restored is null) return;
        pipes.CloseGuestEnds();
        using var forwarder = Forwarding.GuestForwarding.For(restored, _talk.Link, _logger,
            new Checkpoint.CantMove.HomePaths(offer.HomePaths ?? []), offer.SocketsAtHome, (fd, open) => _engine.ForwardedLater(restored.Pid, fd, open),
            offer.Pid);
        await _talk.SendAsync(new Restored(restored.Pid, [.. pipes.Outputs.Keys.Order()], pipes.Input is not null)
        {
            Forwarded = restored.Forwarded.Count > 0 ? restored.Forwarded : null,
        }, cancel).ConfigureAwait(false);
        clock.Mark("restored told");
        var (calledOff, checkpointEvery) = await DecisionAsync().ConfigureAwait(false);
        clock.Mark("commit");
        if (calledOff is not null)
        {
            GuestLog.Aborted(_logger, offer.Pid, offer.HomeNode, calledOff);
            Counters?.Count(MigrationDirection.In, MigrationOutcome.Failed);
            _engine.KillFrozen(restored.Pid);
            restored.Postcopy?.Dispose();
            return;
        }

        var guest = Admit(offer, restored);
        Counters?.Count(MigrationDirection.In, MigrationOutcome.Moved);
        // Its memory now shows in this node's own measurement, soon enough for the next offer.
        reservation?.Keep(MemoryReservations.UntilMeasured);
        using var stay = new GuestStay(pipes, _engine.WhenExited(restored.Pid),
            Keeping is not null && pipes.Input is not null && !pipes.InputIsTerminal ? InputTally.Create() : null);
        Resumption? resumed = null;
        try
        {
            // Kept before it runs: an omd killed from here on leaves its pipes to the keeper. A copy with descriptors
            // forwarded home is not (home cannot resume it either).
            // Nor one still fetching its memory (post-copy): its pages die with this omd, and it must die with them.
            using var kept = Keeping is { } keeping && restored.Forwarded.Count == 0 && restored.Postcopy is null
                ? KeptGuest.Start(keeping, KeptGuest.Describe(offer, restored.Pid, pipes, restored), pipes, restored.ForwardListener, stay.Input.Tally, _logger)
                : null;
            if (kept is not null) stay.Input.WhenEnded(kept.InputEnded);
            // Told before it runs: home turns the original into its deputy meanwhile, which gives back the ids its
            // threads take here where both share one PID namespace.
            var told = System.Diagnostics.Stopwatch.StartNew();
            await _talk.SendAsync(new Running(), cancel).ConfigureAwait(false);
            forwarder?.Start();
            clock.Mark("kept, running told");
            Run(offer, restored, told);
            clock.Mark("let go");
            GuestLog.MovePhases(_logger, offer.Pid, offer.HomeNode, clock.ToString());
            if (restored.Postcopy is { } postcopy) _ = Postcopy.PagesReport.RunAsync(postcopy, _talk, offer.Pid, _logger);
            using var expected = Resumes?.Expect((ushort)offer.HomeNode, offer.Pid, restored.Pid);
            var takeover = expected is null ? null : new GuestTakeover((ushort)offer.HomeNode, offer.Pid, restored.Pid, stay, expected, HomeEndpoint, TakeoverWindow, _logger);
            var (talk, unsent) = (_talk, (IReadOnlyDictionary<int, byte[]>?)null);
            // Calls on descriptors forwarded home are answered by the deputy of the omd that took them: such a copy
            // cannot change links. Its calls about its children can (the new omd serves them).
            while (await new GuestRelay(_engine, talk, pipes, stay, _moves, _logger)
                   {
                       CheckpointEvery = checkpointEvery, CheckpointConditions = CheckpointConditions, Forwarder = forwarder, Unsent = unsent,
                       Registry = _registry, MoveForkedChild = MoveForked, BandwidthLimit = BandwidthLimit, ExitReported = expected is null ? null : expected.Exiting,
                       ExitMayBeUnread = expected is null ? null : expected.ExitMayBeUnread, ExitRead = expected is null ? null : expected.ExitRead,
                       Detach = takeover is null ? null
                           : link => forwarder is { ForwardsDescriptors: true } ? Task.FromResult(false) : takeover.DetachAsync(link),
                   }.RunAsync(restored.Pid, cancel).ConfigureAwait(false))
            {
                resumed?.Done.TrySetResult();
                resumed = await takeover!.WaitAsync(cancel).ConfigureAwait(false);
                if (resumed is null) break;
                (talk, unsent, checkpointEvery) = (resumed.Talk, takeover.Unsent!, TimeSpan.FromMilliseconds(resumed.Request.CheckpointMs));
                // Its calls about its children go on to the new omd's deputy there.
                forwarder?.Relink(talk.Link);
                _moves.End(null);
                _moves = new MoveRequests(talk);
            }
        }
        finally
        {
            resumed?.Done.TrySetResult();
            Directory?.Remove(guest.Pid);
            _registry.RemoveGuest(guest.Pid);
            _moves.End(null);
        }
    }

    /// <summary>
    /// Asks home to move the guest to <paramref name="target"/>; completes with null when the guest has left, or with
    /// why it stays. One request at a time: a second one while the first is open is turned down at once.
    /// </summary>
    public Task<string?> RequestMoveAsync(int guestPid, ushort target, string reason) => _moves.RequestAsync(guestPid, target, reason);

    /// <summary>When home commits, no reason and how often home wants the copy checkpointed; otherwise why the
    /// migration was called off.</summary>
    private async Task<(string? CalledOff, TimeSpan CheckpointEvery)> DecisionAsync()
    {
        try
        {
            return await _talk.ReceiveAsync(AnswerTimeout).ConfigureAwait(false) switch
            {
                Abort abort => (abort.Reason, TimeSpan.Zero),
                Commit commit => (null, TimeSpan.FromMilliseconds(commit.CheckpointMs)),
                _ => (null, TimeSpan.Zero),
            };
        }
        catch (LinkException e)
        {
            return (e.Message, TimeSpan.Zero);
        }
    }

    /// <summary>The committed copy becomes a guest of this node and runs.</summary>
    private ManagedProcess Admit(Offer offer, RestoredProcess restored)
    {
        // A home that sends what this node does not know: the guest is measured with this node's defaults.
        var guest = _registry.AddGuest(restored.Pid, (uint)offer.Uid, (ushort)offer.HomeNode, offer.Command, offer.Pid,
            Balancing.JobOptions.TryParseDecay(offer.Decay, out var decay) ? decay : null,
            Balancing.JobOptions.TryParseHint(offer.Hint, out var hint) ? hint : OpenMosix.Balancing.Demand.JobHint.Measured,
            offer.Locked, offer.Request);
        Directory?.Add(restored.Pid, this);
        return guest;
    }

    /// <summary>Lets the committed copy go. One that cannot (its threads could not be made) is dead: the relay reports it.</summary>
    private void Run(Offer offer, RestoredProcess restored, System.Diagnostics.Stopwatch told)
    {
        try
        {
            _engine.Thaw(restored.Pid);
            GuestLog.Running(_logger, offer.Pid, offer.HomeNode, restored.Pid, told.Elapsed.TotalMilliseconds);
        }
        catch (Checkpoint.Restore.RestoreException e)
        {
            GuestLog.RestoreFailed(_logger, offer.Pid, offer.HomeNode, e.Message);
        }
    }
}
