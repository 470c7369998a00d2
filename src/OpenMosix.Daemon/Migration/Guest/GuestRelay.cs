using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// A guest's stay here: its outputs go home, home's input, signals and terminal size come in, and its exit status
/// goes home after all its output. Home may take it back meanwhile. If home goes away, the guest is killed: a
/// process without its home has no one to answer to.
/// </summary>
internal sealed class GuestRelay(IMigrationEngine engine, Conversation talk, RelayPipes pipes, MoveRequests moves, ILogger logger)
{
    private volatile bool _wentHome;
    private ushort HomeNode => talk.Link.PeerNode;

    public async Task RunAsync(int guestPid, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var outputs = pipes.Outputs.Select(o => OutputPumps.Start(o.Key, o.Value, o.Key == pipes.TerminalOutput, talk, stop.Token)).ToList();
        var exit = engine.WhenExited(guestPid);
        var fromHome = ListenToHomeAsync(guestPid, stop.Token);

        var first = await Task.WhenAny(exit, fromHome).ConfigureAwait(false);
        if (_wentHome)
        {
            // It went home: its copy here is gone, and its exit is none of home's business.
            GuestLog.WentHome(logger, guestPid, HomeNode);
            await stop.CancelAsync().ConfigureAwait(false);
            return;
        }
        if (first == fromHome && !exit.IsCompleted)
        {
            // Home is gone (or broke the protocol): the guest must not live on alone.
            GuestLog.HomeLost(logger, guestPid, HomeNode, fromHome.Exception?.GetBaseException().Message ?? "link closed");
            Signals.Kill(guestPid, Signals.SIGKILL);
            await exit.ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            return;
        }
        var status = await exit.ConfigureAwait(false);
        // Everything the guest wrote goes home before its exit status does.
        await Task.WhenAll(outputs).ConfigureAwait(false);
        GuestLog.Exited(logger, guestPid, status.ToString());
        try
        {
            await talk.SendAsync(new Exited(status.Code, status.Signal), cancel).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            GuestLog.HomeLost(logger, guestPid, HomeNode, e.Message);
        }
        await stop.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Frames from home until the link ends or the process went home.</summary>
    private async Task ListenToHomeAsync(int guestPid, CancellationToken cancel)
    {
        var input = pipes.Input is { } handle ? new FileStream(handle, FileAccess.Write, 0, isAsync: false) : null;
        try
        {
            while (await talk.Link.ReceiveAsync(cancel).ConfigureAwait(false) is { } frame)
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
                        if (await OnMessageAsync(guestPid, talk.Read(frame), cancel).ConfigureAwait(false)) return;
                        break;
                    default:
                        throw new LinkException($"node {HomeNode} sent an unexpected {frame.Type} frame to a guest");
                }
            }
        }
        finally
        {
            if (input is not null) await input.DisposeAsync().ConfigureAwait(false);
        }
    }

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
                // A resize at home: the guest's terminal takes the new size before the guest hears of it.
                if (signal.TerminalSize is { } size && pipes.TerminalMaster is { } master) Terminal.WriteSize(master, size);
                Signals.Kill(guestPid, signal.Signal);
                return false;
            case ComeHome:
                return await SendHome.RunAsync(engine, talk, guestPid, () => _wentHome = true, logger, cancel).ConfigureAwait(false);
            default:
                return false;
        }
    }
}
