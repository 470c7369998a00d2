using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Checkpoints;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// A guest's stay here: its outputs go home, home's input, signals and terminal size come in, and its exit status
/// goes home after all its output. Home may take it back meanwhile. If home goes away, the guest is killed: a
/// process without its home has no one to answer to; unless <see cref="Detach"/> says a new omd at home may take it
/// over, and then the relay ends leaving it to wait (<see cref="GuestResumes"/>), its <paramref name="stay"/> kept.
/// </summary>
internal sealed partial class GuestRelay(IMigrationEngine engine, Conversation talk, RelayPipes pipes, GuestStay stay, MoveRequests moves, ILogger logger)
{
    /// <summary>How often home hears the copy's CPU time and memory.</summary>
    public static readonly TimeSpan UsageInterval = TimeSpan.FromSeconds(1);

    private volatile bool _wentHome;
    private readonly GuestInput _input = stay.Input;
    private CancellationToken _stopped;
    // Usage reports are control messages of the Relaying phase: none may slip in while the image goes home.
    private readonly SemaphoreSlim _reports = new(1, 1);
    private bool _returning;
    private ushort HomeNode => talk.Link.PeerNode;
    private Checkpointer? _checkpoints;
    private ForkReports? _forks;

    /// <summary>How often the copy is checkpointed home, as home asked in its commit (zero: never).</summary>
    public TimeSpan CheckpointEvery { get; init; }

    /// <summary>What each periodic checkpoint waits for (<see cref="Checkpoints.CheckpointDeferral"/>); null: nothing.</summary>
    public Checkpoints.CheckpointConditions? CheckpointConditions { get; init; }

    /// <summary>Serves the copy's calls on descriptors home kept (their results come in Forward frames).</summary>
    public Forwarding.GuestForwarder? Forwarder { get; init; }

    /// <summary>Asked when home's link is lost with the copy alive: true when the copy now waits for a new omd at home
    /// to take it over (it is stopped meanwhile), false to kill it.</summary>
    public Func<NodeLink, Task<bool>>? Detach { get; init; }

    /// <summary>Where the copy's forks here are found, for its home (remote fork); null: home does not hear of them.</summary>
    public ProcessRegistry? Registry { get; init; }

    /// <summary>How this node moves a process the copy forked here when its home asks (<see cref="MoveForked"/>): as it
    /// moves its own; null: such requests are turned down.</summary>
    public Func<ManagedProcess, string, bool?, Task<MigrationResult>>? MoveForkedChild { get; init; }

    /// <summary>Output to send home first, before the pumps go on: what a new omd at home never got (a takeover).</summary>
    public IReadOnlyDictionary<int, byte[]>? Unsent { get; init; }

    /// <summary>Told the copy's exit status as it goes home (<see cref="GuestResumes.Expected.Exiting"/>): this node
    /// remembers it a while, for home to ask should the link break before home read it.</summary>
    public Action<Exited>? ExitReported { get; init; }

    /// <summary>Told as the exit goes home: until home closes the link it may read neither the exit nor the output before
    /// it (<see cref="GuestResumes.Expected.ExitMayBeUnread"/>), so this node keeps that output with the exit for home
    /// to ask.</summary>
    public Action<GuestStay>? ExitMayBeUnread { get; init; }

    /// <summary>Told when home closed the link after the exit, having read it all: the output kept for it goes.</summary>
    public Action? ExitRead { get; init; }

    /// <summary>How long the copy's node waits, its exit sent, for home to close the link (home reads what came before
    /// and ends the deputy first); then it closes it itself.</summary>
    public static readonly TimeSpan HomeCloseWait = TimeSpan.FromSeconds(30);

    /// <summary>MiB/s the trip home sends at most (migration.bandwidth_limit_mib_s); 0: no limit.</summary>
    public int BandwidthLimit { get; init; }

    /// <summary>Relays the copy until it ends or goes home (false), or until home is lost and the copy waits to be
    /// taken over (true).</summary>
    public async Task<bool> RunAsync(int guestPid, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        _stopped = stop.Token;
        _input.Progress = written => _ = ReportWrittenAsync(written);
        _forks = Registry is null ? null : new ForkReports(Registry, guestPid);
        WatchJobControl(guestPid);
        if (Unsent is not null && !await SendUnsentAsync(cancel).ConfigureAwait(false))
        {
            if (Detach is not null && await Detach(talk.Link).ConfigureAwait(false)) return true;
            GuestLog.HomeLost(logger, guestPid, HomeNode, "the link broke as it was taken over");
            Signals.Kill(guestPid, Signals.SIGKILL);
            await stay.Exit.ConfigureAwait(false);
            return false;
        }
        var counted = stay.Counted.ToDictionary(c => c.Key, c => (Pipe: pipes.Outputs[c.Key], Counted: c.Value));
        var outputs = pipes.Outputs.ToDictionary(o => o.Key, o => OutputPumps.Start(o.Key, o.Value, o.Key == pipes.TerminalOutput, talk, stop.Token,
            o.Key == pipes.TerminalOutput ? stay.TerminalCounted : stay.Counted.GetValueOrDefault(o.Key), stay.Sent.GetValueOrDefault(o.Key)));
        using var stopCheckpoints = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        _checkpoints = CheckpointEvery > TimeSpan.Zero ? new Checkpointer(engine, talk, guestPid, CheckpointEvery, counted, _input, logger)
        {
            Conditions = CheckpointConditions,
            Forwarder = Forwarder,
        } : null;
        var checkpoints = _checkpoints?.RunAsync(stopCheckpoints.Token) ?? Task.CompletedTask;
        var exit = stay.Exit;
        var fromHome = ListenToHomeAsync(guestPid, stop.Token);
        using var stopReports = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var reports = ReportUsageAsync(guestPid, stopReports.Token);

        var first = await Task.WhenAny(exit, fromHome).ConfigureAwait(false);
        if (_wentHome)
        {
            // It went home: its copy here is gone, and its exit is none of home's business.
            pipes.ReleaseTerminalPeer();
            GuestLog.WentHome(logger, guestPid, HomeNode);
            await stop.CancelAsync().ConfigureAwait(false);
            return false;
        }
        if (first == fromHome && !exit.IsCompleted && Detach is not null && await Detach(talk.Link).ConfigureAwait(false))
        {
            // Its home node is up, its omd gone: a new one may take the copy over. Everything stops here, losing nothing.
            await stop.CancelAsync().ConfigureAwait(false);
            pipes.ReleaseTerminalPeer();
            try
            {
                await checkpoints.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed checkpoint must not leave the stopped copy behind: the next relay takes the next one.
                CheckpointLog.Failed(logger, guestPid, e.Message);
            }
            await reports.ConfigureAwait(false);
            await Task.WhenAll(outputs.Values).ConfigureAwait(false);
            return true;
        }
        if (first == fromHome && !exit.IsCompleted)
        {
            // Home is gone (or broke the protocol): the guest must not live on alone.
            GuestLog.HomeLost(logger, guestPid, HomeNode, fromHome.Exception?.GetBaseException().Message ?? "link closed");
            pipes.ReleaseTerminalPeer();
            Signals.Kill(guestPid, Signals.SIGKILL);
            await exit.ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            return false;
        }
        var status = await exit.ConfigureAwait(false);
        // No checkpoint's frames may follow the exit status.
        await stopCheckpoints.CancelAsync().ConfigureAwait(false);
        try
        {
            await checkpoints.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever became of the checkpoints, the exit status must still reach home: without it home takes
            // the process for lost.
            CheckpointLog.Failed(logger, guestPid, e.Message);
        }
        await stopReports.CancelAsync().ConfigureAwait(false);
        await reports.ConfigureAwait(false);
        // What it forked here runs on: the link stays for them, their output and their reports.
        if (_forks?.AnyLeft == true)
        {
            // They may read the terminal still: what is queued there is theirs.
            pipes.ReleaseTerminalPeer();
            return await OutliveAsync(guestPid, status, outputs, fromHome, stop, cancel).ConfigureAwait(false);
        }
        var exited = UnreadTerminalInput(guestPid, new Exited(status.Code, status.Signal));
        // Everything the guest wrote goes home before its exit status does, and nothing after it.
        await Task.WhenAll(outputs.Values).ConfigureAwait(false);
        GuestLog.Exited(logger, guestPid, status.ToString());
        ExitReported?.Invoke(exited);
        try
        {
            await talk.SendAsync(exited, cancel).ConfigureAwait(false);
            // Kept from now, not once the link is seen broken: a cut link gives no sign here, and home's next omd can
            // ask before this side's wait ends (a fresh-clone run, 8 December: the exit told alone, the output lost).
            ExitMayBeUnread?.Invoke(stay);
            // Home closes the link once it has read the exit. Closed from here first, the link could break under a
            // frame home is still sending (an answer, a heartbeat), and home would stop reading before the exit.
            await stop.CancelAsync().ConfigureAwait(false);
            if (await WaitForHomeToCloseAsync(fromHome, cancel).ConfigureAwait(false)) ExitRead?.Invoke();
            else GuestLog.ExitMayBeUnread(logger, guestPid, HomeNode);
        }
        catch (LinkException e)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            // Its exit status waits for a new omd at home, with the output it did not get.
            if (Detach is not null && await Detach(talk.Link).ConfigureAwait(false)) return true;
            GuestLog.HomeLost(logger, guestPid, HomeNode, e.Message);
        }
        await stop.CancelAsync().ConfigureAwait(false);
        return false;
    }

    /// <summary>Reads and drops what home still sends until it closes the link (or it breaks, or
    /// <see cref="HomeCloseWait"/> passes): a link closed with unread bytes is reset, not closed. True when home
    /// closed it, having read everything before.</summary>
    private async Task<bool> WaitForHomeToCloseAsync(Task listening, CancellationToken cancel)
    {
        try
        {
            await listening.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException)
        {
            // Stopped: the link is read on below.
        }
        return await WaitForCloseAsync(talk.Link, cancel).ConfigureAwait(false);
    }

    /// <summary>Reads and drops what the peer still sends on <paramref name="link"/> until it closes it (true), or the
    /// link breaks, or <see cref="HomeCloseWait"/> passes (false).</summary>
    internal static async Task<bool> WaitForCloseAsync(NodeLink link, CancellationToken cancel)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        wait.CancelAfter(HomeCloseWait);
        try
        {
            while (await link.ReceiveAsync(wait.Token).ConfigureAwait(false) is { } frame) FramePool.Return(frame.Payload);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException)
        {
            // Broken, or home is slow: the exit is remembered here (ExitReported) for it to ask.
            return false;
        }
    }

    /// <summary>
    /// The copy ended with home's terminal for stdin: the keys typed ahead that it did not read (queued in its
    /// pseudo-terminal here, or not written into it yet) go home with its exit status, where they wait in the terminal
    /// for the shell as they would have had it never moved. Nothing more is written into the terminal from here on.
    /// </summary>
    private Exited UnreadTerminalInput(int guestPid, Exited exited)
    {
        if (!pipes.InputIsTerminal)
        {
            pipes.ReleaseTerminalPeer();
            return exited;
        }
        var unwritten = _input.TakeUnwritten(out var taken);
        byte[] queued;
        try
        {
            queued = pipes.TakeUnreadInput();
        }
        catch (SyscallException e)
        {
            GuestLog.UnreadInputLost(logger, guestPid, e.Message);
            queued = [];
        }
        var unread = queued.Length + unwritten.Length <= Exited.MaxUnreadInput ? [.. queued, .. unwritten] : queued;
        return exited with { UnreadInput = unread.Length > 0 ? unread : null, InputReceived = taken };
    }

    /// <summary>Whether home's terminal made <paramref name="signal"/> of a key and threw its typed-ahead input away then
    /// (^C, ^\, ^Z without NOFLSH): what the relay read ahead of it is thrown away here too.</summary>
    private bool TerminalSignalFlushes(ForwardSignal signal) =>
        pipes.InputIsTerminal && !signal.FromProcess && signal.Signal is Signals.SIGINT or Signals.SIGQUIT or Signals.SIGTSTP
        && pipes.Input is { } master && TerminalInput.FlushesOnSignal(Terminal.ReadModes(master));

    private void FlushTerminalInput()
    {
        // Bytes typed before the key came ahead of the signal on the link: they are queued or written by now.
        _input.DropUnwritten();
        pipes.FlushTerminalInput();
    }

    /// <summary>What a new omd at home never got, in order, and the ends it was not told of; false if the link broke again.</summary>
    private async Task<bool> SendUnsentAsync(CancellationToken cancel)
    {
        try
        {
            await SendOutputAsync(talk.Link, Unsent!, cancel).ConfigureAwait(false);
            return true;
        }
        catch (LinkException)
        {
            return false;
        }
    }

    /// <summary>Output home never got, each stream's bytes in order, as the pumps send it (Stdio frames).</summary>
    internal static async Task SendOutputAsync(NodeLink link, IReadOnlyDictionary<int, byte[]> output, CancellationToken cancel)
    {
        foreach (var (fd, bytes) in output)
        {
            for (var at = 0; at < bytes.Length; at += 65536)
            {
                var length = Math.Min(65536, bytes.Length - at);
                var frame = new byte[length + 1];
                frame[0] = (byte)fd;
                bytes.AsSpan(at, length).CopyTo(frame.AsSpan(1));
                await link.SendAsync(FrameType.Stdio, frame, cancel).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Frames from home until the link ends or the process went home.</summary>
    private async Task ListenToHomeAsync(int guestPid, CancellationToken cancel)
    {
        try
        {
            // Results of reads and peeks are taken on the link's reading thread while this waits (GuestForwarder.TakeInline).
            while (await talk.Link.ReceiveAsync(TakeInline, cancel).ConfigureAwait(false) is { } frame)
            {
                if (_input.Take(frame) || Forwarder?.Take(frame) == true) continue;
                if (frame.Type != FrameType.Control) throw new LinkException($"node {HomeNode} sent an unexpected {frame.Type} frame to a guest");
                if (await OnMessageAsync(guestPid, talk.Read(frame), cancel).ConfigureAwait(false)) return;
            }
        }
        finally
        {
            // The stay keeps the copy's stdin: a new omd at home may take the relay over.
            _input.Progress = null;
        }
    }

    private bool TakeInline(FrameType type, ReadOnlySpan<byte> payload) => type == FrameType.Forward && Forwarder?.TakeInline(payload) == true;

    /// <summary>One message from home; true when the process went home.</summary>
    private async Task<bool> OnMessageAsync(int guestPid, MigrationMessage message, CancellationToken cancel)
    {
        switch (message)
        {
            case MoveFailed failed:
                GuestLog.MoveRefused(logger, guestPid, HomeNode, failed.Reason);
                moves.End(failed.Reason);
                return false;
            case ForwardSignal signal:
                // A shell's bg and fg move home's terminal's foreground, then send SIGCONT: the copy's next read asks.
                Forwarder?.TerminalMayHaveChanged();
                if (TerminalSignalFlushes(signal)) FlushTerminalInput();
                HomeSignalled(guestPid, signal);
                CopySignals.Deliver(guestPid, signal, pipes.TerminalMaster, pipes.TerminalMaster ?? (pipes.InputIsTerminal ? pipes.Input : null));
                return false;
            case LockChanged changed:
                // Heeded by this node's balancer, and inherited by what the copy forks from now on.
                if (Registry?.Find(guestPid) is { State: ProcessState.Guest } guest) Registry.Update(guest, g => g.Locked = changed.Locked);
                return false;
            case SignalForked forked:
                if (_forks?.Signal(forked) != true) GuestLog.NoForkedChild(logger, guestPid, forked.Pid);
                return false;
            case MoveForked move:
                // On a task of its own: the move takes its own links, and this one goes on relaying meanwhile.
                _ = Task.Run(() => MoveForkedAsync(guestPid, move), CancellationToken.None);
                return false;
            case CheckpointStored stored:
                _checkpoints?.Answered(stored);
                return false;
            case CheckpointGo go:
                _checkpoints?.Answered(go);
                return false;
            case ComeHome request:
                using (_checkpoints is null ? null : await _checkpoints.PauseAsync(cancel).ConfigureAwait(false))
                    return await ComeHomeAsync(guestPid, request, cancel).ConfigureAwait(false);
            default:
                return false;
        }
    }

    /// <summary>Home asked for the process: true when it went home.</summary>
    private async Task<bool> ComeHomeAsync(int guestPid, ComeHome request, CancellationToken cancel)
    {
        await SetReturningAsync(true, cancel).ConfigureAwait(false);
        var wentHome = await new SendHome(engine, talk, guestPid, _input, logger) { Forwarded = Forwarder, Pacer = BandwidthPacer.ForLimit(BandwidthLimit) }.RunAsync(request, () => _wentHome = true, cancel).ConfigureAwait(false);
        if (!wentHome)
        {
            await SetReturningAsync(false, cancel).ConfigureAwait(false);
            await SendHeldAnswersAsync().ConfigureAwait(false);
            // What was written meanwhile went unreported: home would wait for it before relaying more.
            if (pipes.Input is not null) await ReportWrittenAsync(_input.Written).ConfigureAwait(false);
        }
        return wentHome;
    }

    private async Task SetReturningAsync(bool returning, CancellationToken cancel)
    {
        await _reports.WaitAsync(cancel).ConfigureAwait(false);
        _returning = returning;
        _reports.Release();
    }

    /// <summary>How much of its input was written into the copy's stdin, for home's window; not while it goes home.</summary>
    private async Task ReportWrittenAsync(long written)
    {
        try
        {
            await _reports.WaitAsync(_stopped).ConfigureAwait(false);
            try
            {
                if (!_returning) await talk.SendAsync(new InputWritten(written), _stopped).ConfigureAwait(false);
            }
            finally
            {
                _reports.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException or ObjectDisposedException)
        {
            // The stay is over, or home is gone: the relay finds out.
        }
    }

    /// <summary>The copy's CPU time and resident memory, and what it forked here, to home every <see cref="UsageInterval"/> until it ends.</summary>
    private async Task ReportUsageAsync(int guestPid, CancellationToken cancel)
    {
        try
        {
            using var timer = new PeriodicTimer(UsageInterval);
            while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false))
            {
                double cpu;
                long resident;
                try
                {
                    cpu = OpenMosix.Linux.Proc.ProcFs.ReadStat(guestPid).CpuSeconds;
                    resident = OpenMosix.Linux.Proc.ProcFs.ReadResidentBytes(guestPid);
                }
                catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
                {
                    return; // it ended: its exit status says the rest
                }
                await _reports.WaitAsync(cancel).ConfigureAwait(false);
                try
                {
                    if (!_returning) await talk.SendAsync(new Usage(cpu, resident, _input.Read(guestPid)), cancel).ConfigureAwait(false);
                    if (!_returning && _forks?.Due() is { } forks) await talk.SendAsync(forks, cancel).ConfigureAwait(false);
                }
                finally
                {
                    _reports.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stay is over.
        }
        catch (LinkException)
        {
            // Home is gone: the relay finds out and ends the guest.
        }
    }
}
