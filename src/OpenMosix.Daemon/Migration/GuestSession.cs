using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The target side of one migration, and then of the guest's whole stay: accept or refuse the offer, restore the
/// image as it streams in (frozen), let it run when home commits, relay its stdio, forward signals from home, and
/// report its exit. If home goes away, the guest is killed: a process without its home has no one to answer to.
/// </summary>
public sealed partial class GuestSession(
    NodeLink link,
    CheckpointEngine engine,
    ProcessRegistry registry,
    Func<ulong> freeMemory,
    ILogger logger)
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Whether this node is blocked (mosctl block): it then refuses every process offered to it.</summary>
    public Func<bool> Blocked { get; init; } = () => false;

    /// <summary>Where this node's balancer and mosctl expel find the guest to ask its home to move it on.</summary>
    public GuestDirectory? Directory { get; init; }

    /// <summary>Memory promised to guests on their way here: an offer is weighed against what is left of it.</summary>
    public MemoryReservations? Reservations { get; init; }

    private volatile bool _wentHome;
    private readonly Lock _moveGate = new();
    private TaskCompletionSource<string?>? _moveRequest;

    public async Task RunAsync(CancellationToken cancel)
    {
        var offer = await ControlMessage.ReceiveAsync(link, AnswerTimeout, "offer").ConfigureAwait(false);
        using var pipes = new RelayPipes(offer.TerminalModes, offer.TerminalSize);
        if (Refusal(offer) is { } reason)
        {
            LogRefused(logger, offer.Pid, offer.HomeNode, reason);
            await ControlMessage.SendAsync(link, new ControlMessage("refuse") { Reason = reason }, cancel).ConfigureAwait(false);
            return;
        }
        using var reservation = Reservations?.Reserve(offer.MemoryBytes);
        await ControlMessage.SendAsync(link, new ControlMessage("accept"), cancel).ConfigureAwait(false);

        RestoredProcess restored;
        PrecopyTarget? precopied = null;
        var options = new RestoreOptions { KeepFrozen = true, DescriptorsFor = pipes.Create };
        try
        {
            while ((await ControlMessage.ReceiveAsync(link, AnswerTimeout, "precopy", "final").ConfigureAwait(false)).Kind == "precopy")
            {
                precopied = await Blocking.Run(() =>
                {
                    using var round = new ImageReader(new LinkImageReadStream(link), leaveOpen: true);
                    if (precopied is null) return engine.BeginPrecopyRestore(round, options);
                    engine.ContinuePrecopyRestore(precopied, round);
                    return precopied;
                }).ConfigureAwait(false);
                await ControlMessage.SendAsync(link, new ControlMessage("precopied"), cancel).ConfigureAwait(false);
            }
            restored = await Blocking.Run(() =>
            {
                using var reader = new ImageReader(new LinkImageReadStream(link), leaveOpen: true);
                return precopied is null ? engine.Restore(reader, options) : engine.FinishPrecopyRestore(precopied, reader, options);
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (precopied is not null) engine.AbandonPrecopyRestore(precopied);
            LogRestoreFailed(logger, offer.Pid, offer.HomeNode, e.Message);
            if (e is not LinkException)
                await ControlMessage.SendAsync(link, new ControlMessage("failed") { Reason = e.Message }, cancel).ConfigureAwait(false);
            return;
        }
        pipes.CloseGuestEnds();
        await ControlMessage.SendAsync(link, new ControlMessage("restored")
        {
            RemotePid = restored.Pid,
            RelayedOutputs = [.. pipes.Outputs.Keys.Order()],
            RelaysInput = pipes.Input is not null,
        }, cancel).ConfigureAwait(false);

        ControlMessage decision;
        try
        {
            decision = await ControlMessage.ReceiveAsync(link, AnswerTimeout, "commit", "abort").ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            decision = new ControlMessage("abort") { Reason = e.Message };
        }
        if (decision.Kind != "commit")
        {
            LogAborted(logger, offer.Pid, offer.HomeNode, decision.Reason ?? "home called it off");
            engine.KillFrozen(restored.Pid);
            return;
        }
        // A home that sends what this node does not know: the guest is measured with this node's defaults.
        var guest = registry.AddGuest(restored.Pid, (uint)offer.Uid, (ushort)offer.HomeNode, offer.Command ?? "?", offer.Pid,
            Balancing.JobOptions.TryParseDecay(offer.Decay, out var decay) ? decay : null,
            Balancing.JobOptions.TryParseHint(offer.Hint, out var hint) ? hint : OpenMosix.Balancing.Demand.JobHint.Measured);
        Directory?.Add(restored.Pid, this);
        engine.Thaw(restored.Pid);
        LogRunning(logger, offer.Pid, offer.HomeNode, restored.Pid);
        // Its memory now shows in this node's own measurement, soon enough for the next offer.
        reservation?.Keep(MemoryReservations.UntilMeasured);
        try
        {
            await ControlMessage.SendAsync(link, new ControlMessage("running"), cancel).ConfigureAwait(false);
            await RelayAsync(restored, pipes, cancel).ConfigureAwait(false);
        }
        finally
        {
            Directory?.Remove(guest.Pid);
            registry.RemoveGuest(guest.Pid);
            EndMoveRequest(null);
        }
    }

    private string? Refusal(ControlMessage offer)
    {
        if (Blocked()) return "this node is blocked (mosctl block): it takes no processes";
        var here = SystemInfo.Uname();
        var kernel = $"{here.Release} {here.Version}";
        if (offer.Kernel != kernel)
            return $"kernel differs: home runs '{offer.Kernel}', this node '{kernel}'";
        foreach (var file in offer.Files ?? [])
        {
            var local = new FileInfo(file.Path);
            if (!local.Exists) return $"{file.Path} does not exist on this node";
            if (local.Length != file.Size) return $"{file.Path} differs on this node ({local.Length} bytes, {file.Size} at home)";
        }
        var reserved = Reservations?.Reserved ?? 0;
        var free = (long)Math.Min(freeMemory(), long.MaxValue) - reserved;
        if (offer.MemoryBytes > free)
            return $"not enough memory: the process needs {offer.MemoryBytes >> 20} MiB, this node has {Math.Max(0, free) >> 20} MiB free"
                   + (reserved > 0 ? $" after {reserved >> 20} MiB promised to guests on their way" : "");
        return null;
    }

    private async Task RelayAsync(RestoredProcess restored, RelayPipes pipes, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var outputs = pipes.Outputs.Select(o => o.Key == pipes.TerminalOutput
            ? PumpTerminalAsync(o.Key, o.Value, stop.Token)
            : PumpOutputAsync(o.Key, o.Value, stop.Token)).ToList();
        var exit = engine.WhenExited(restored.Pid);
        var fromHome = ListenToHomeAsync(restored.Pid, pipes, stop.Token);

        var first = await Task.WhenAny(exit, fromHome).ConfigureAwait(false);
        if (_wentHome)
        {
            // It went home: its copy here is gone, and its exit is none of home's business.
            LogWentHome(logger, restored.Pid, link.PeerNode);
            await stop.CancelAsync().ConfigureAwait(false);
            return;
        }
        if (first == fromHome && !exit.IsCompleted)
        {
            // Home is gone (or broke the protocol): the guest must not live on alone.
            LogHomeLost(logger, restored.Pid, link.PeerNode, fromHome.Exception?.GetBaseException().Message ?? "link closed");
            Signals.Kill(restored.Pid, Signals.SIGKILL);
            await exit.ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            return;
        }
        var status = await exit.ConfigureAwait(false);
        // Everything the guest wrote goes home before its exit status does.
        await Task.WhenAll(outputs).ConfigureAwait(false);
        LogExited(logger, restored.Pid, status.ToString());
        try
        {
            await ControlMessage.SendAsync(link, new ControlMessage("exit") { Code = status.Code, Signal = status.Signal }, cancel)
                .ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            LogHomeLost(logger, restored.Pid, link.PeerNode, e.Message);
        }
        await stop.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Reads one output pipe of the guest on a thread of its own (a pipe read blocks) and sends it home.</summary>
    private Task PumpOutputAsync(int fd, Microsoft.Win32.SafeHandles.SafeFileHandle pipe, CancellationToken cancel) => Blocking.Run(() =>
    {
        using var stream = new FileStream(pipe, FileAccess.Read, 0, isAsync: false);
        var buffer = new byte[65536 + 1];
        buffer[0] = (byte)fd;
        while (true)
        {
            int n;
            try
            {
                n = stream.Read(buffer, 1, buffer.Length - 1);
            }
            catch (IOException)
            {
                // A pseudo-terminal's master reads EIO, not end of file, once the last slave is closed.
                n = 0;
            }
            if (n == 0) break;
            link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n + 1), cancel).GetAwaiter().GetResult();
        }
        link.SendAsync(FrameType.StdioEnd, new[] { (byte)fd }, cancel).GetAwaiter().GetResult();
        return 0;
    });

    /// <summary>
    /// Reads the pseudo-terminal's master, in packet mode: data goes home as output; a report that the program
    /// changed its terminal's modes sends the new modes home, where they are applied to the real terminal (echo,
    /// line editing and ^C happen there). EXTPROC, which a program building its modes from scratch may clear, is set
    /// again, so the slave never starts echoing or editing itself.
    /// </summary>
    private Task PumpTerminalAsync(int fd, Microsoft.Win32.SafeHandles.SafeFileHandle master, CancellationToken cancel) => Blocking.Run(() =>
    {
        var buffer = new byte[65536 + 1];
        byte[]? sent = null;
        while (true)
        {
            int n;
            try
            {
                n = Descriptors.Read(master, buffer);
            }
            catch (SyscallException)
            {
                // EIO once the last slave is closed: the guest is gone.
                n = 0;
            }
            if (n == 0) break;
            if (buffer[0] == 0)
            {
                if (n == 1) continue;
                buffer[0] = (byte)fd;
                link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n), cancel).GetAwaiter().GetResult();
                continue;
            }
            if ((buffer[0] & Terminal.PacketModesChanged) == 0 || Terminal.ReadModes(master) is not { } modes) continue;
            if (!Terminal.HasExternalProcessing(modes)) Terminal.WriteModes(master, Terminal.WithExternalProcessing(modes, on: true));
            var meant = Terminal.WithExternalProcessing(modes, on: false);
            if (sent is not null && sent.AsSpan().SequenceEqual(meant)) continue;
            sent = meant;
            ControlMessage.SendAsync(link, new ControlMessage("terminal-modes") { TerminalModes = meant }, cancel).GetAwaiter().GetResult();
        }
        link.SendAsync(FrameType.StdioEnd, new[] { (byte)fd }, cancel).GetAwaiter().GetResult();
        return 0;
    });

    /// <summary>Frames from home until the link ends; true when the process went home (its copy here is gone).</summary>
    private async Task<bool> ListenToHomeAsync(int guestPid, RelayPipes pipes, CancellationToken cancel)
    {
        var input = pipes.Input is { } handle ? new FileStream(handle, FileAccess.Write, 0, isAsync: false) : null;
        try
        {
            while (await link.ReceiveAsync(cancel).ConfigureAwait(false) is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Stdio when input is not null && frame.Payload.Length > 1 && frame.Payload[0] == 0:
                        try
                        {
                            input.Write(frame.Payload, 1, frame.Payload.Length - 1);
                        }
                        catch (IOException)
                        {
                            // The guest closed its stdin: what home reads next has nowhere to go, as at home.
                        }
                        break;
                    case FrameType.StdioEnd when input is not null:
                        await input.DisposeAsync().ConfigureAwait(false);
                        input = null;
                        break;
                    case FrameType.Control:
                        var message = ControlMessage.Parse(frame, link.PeerNode, "signal", "come-home", "move-failed");
                        if (message.Kind == "move-failed")
                        {
                            LogMoveRefused(logger, guestPid, link.PeerNode, message.Reason ?? "no reason given");
                            EndMoveRequest(message.Reason ?? "home could not move it");
                            break;
                        }
                        // A resize at home: the guest's terminal takes the new size before the guest hears of it.
                        if (message.TerminalSize is { Length: Terminal.WinsizeSize } size && pipes.TerminalMaster is { } master)
                            Terminal.WriteSize(master, size);
                        if (message.Kind == "signal" && message.Signal is > 0 and < 65) Signals.Kill(guestPid, message.Signal);
                        if (message.Kind == "come-home" && await SendHomeAsync(guestPid, cancel).ConfigureAwait(false)) return true;
                        break;
                    default:
                        throw new LinkException($"node {link.PeerNode} sent an unexpected {frame.Type} frame to a guest");
                }
            }
            return false;
        }
        finally
        {
            if (input is not null) await input.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks home to move the guest to <paramref name="target"/>; completes with null when the guest has left, or with
    /// why it stays. One request at a time: a second one while the first is open is turned down at once.
    /// </summary>
    public async Task<string?> RequestMoveAsync(int guestPid, ushort target, string reason)
    {
        long resident;
        try
        {
            resident = ProcFs.ReadResidentBytes(guestPid);
        }
        catch (IOException)
        {
            resident = 0; // gone meanwhile: home finds that out itself
        }
        TaskCompletionSource<string?> request;
        lock (_moveGate)
        {
            if (_moveRequest is not null) return "a move of it is already under way";
            request = _moveRequest = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            await ControlMessage.SendAsync(link, new ControlMessage("move") { Target = target, Reason = reason, MemoryBytes = resident }).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            EndMoveRequest(e.Message);
        }
        return await request.Task.ConfigureAwait(false);
    }

    private void EndMoveRequest(string? outcome)
    {
        TaskCompletionSource<string?>? request;
        lock (_moveGate)
        {
            request = _moveRequest;
            _moveRequest = null;
        }
        request?.TrySetResult(outcome);
    }

    /// <summary>
    /// Home wants the process back: freeze it, stream its image home, and wait for the verdict. "home": the copy
    /// here dies (it runs at home now); "stay", a failure, or a lost link: it runs on here as before.
    /// </summary>
    private async Task<bool> SendHomeAsync(int guestPid, CancellationToken cancel)
    {
        await ControlMessage.SendAsync(link, new ControlMessage("image-follows"), cancel).ConfigureAwait(false);
        try
        {
            await LinkImageWriteStream.SendAsync(link,
                writer => engine.Checkpoint(guestPid, writer, new DumpOptions(AfterDump.KeepFrozen))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSendHomeFailed(logger, guestPid, e.Message);
            return false;
        }
        ControlMessage verdict;
        while (true)
        {
            var frame = await link.ReceiveAsync(cancel).ConfigureAwait(false);
            if (frame is null)
            {
                engine.Thaw(guestPid);
                return false;
            }
            if (frame.Value.Type != FrameType.Control) continue;
            verdict = ControlMessage.Parse(frame.Value, link.PeerNode, "home", "stay");
            break;
        }
        if (verdict.Kind == "home")
        {
            _wentHome = true;
            engine.KillFrozen(guestPid);
            return true;
        }
        LogStays(logger, guestPid, verdict.Reason ?? "home could not take it");
        engine.Thaw(guestPid);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} went home to node {Home}")]
    private static partial void LogWentHome(ILogger logger, int guest, int home);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: home node {Home} did not move it on: {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, int guest, int home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} could not be sent home: {Reason}")]
    private static partial void LogSendHomeFailed(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} stays here: {Reason}")]
    private static partial void LogStays(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "refused process {Pid} of node {Home}: {Reason}")]
    private static partial void LogRefused(ILogger logger, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "restoring process {Pid} of node {Home} failed: {Reason}")]
    private static partial void LogRestoreFailed(ILogger logger, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "migration of process {Pid} from node {Home} called off: {Reason}")]
    private static partial void LogAborted(ILogger logger, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} of node {Home} runs here as {Guest}")]
    private static partial void LogRunning(ILogger logger, int pid, int home, int guest);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: home node {Home} is gone ({Reason}); killing it")]
    private static partial void LogHomeLost(ILogger logger, int guest, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} {Status}")]
    private static partial void LogExited(ILogger logger, int guest, string status);
}
