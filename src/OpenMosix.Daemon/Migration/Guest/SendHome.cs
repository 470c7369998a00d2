using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Home wants the process back: freeze it, stream its image home, and wait for the verdict. "home": the copy here
/// dies (it runs at home now); "stay", a failure, or a lost link: it runs on here as before.
/// </summary>
internal static class SendHome
{
    /// <summary>True when the process went home; <paramref name="leaving"/> runs just before its copy here is killed.</summary>
    public static async Task<bool> RunAsync(IMigrationEngine engine, Conversation talk, int guestPid, Action leaving, ILogger logger,
        CancellationToken cancel)
    {
        await talk.SendAsync(new ImageFollows(), cancel).ConfigureAwait(false);
        var frozen = false;
        try
        {
            await LinkImageWriteStream.SendAsync(talk.Link, image =>
            {
                engine.CheckpointFrozen(guestPid, image);
                frozen = true;
            }).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            // The link is gone: the relay ends with it, and so does the guest, still frozen. Thawed, it would run for
            // a moment beside the process home may have rebuilt from what it got (docs/reliability.md).
            GuestLog.SendHomeFailed(logger, guestPid, e.Message);
            talk.ReturnAbandoned();
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The checkpoint failed and let the process run on. The image was ended all the same, so home reads a
            // truncated image, refuses it and answers "stay", which is read below like any verdict.
            GuestLog.SendHomeFailed(logger, guestPid, e.Message);
        }
        MigrationMessage verdict;
        while (true)
        {
            var frame = await talk.Link.ReceiveAsync(cancel).ConfigureAwait(false);
            // The link closed without a verdict: home may have it, so the copy stays frozen until the relay kills it.
            if (frame is null) return false;
            // Input home read before it froze the process has nowhere to go now.
            if (frame.Value.Type != FrameType.Control) continue;
            verdict = talk.Read(frame.Value);
            break;
        }
        if (verdict is WelcomeHome && frozen)
        {
            leaving();
            engine.KillFrozen(guestPid);
            return true;
        }
        GuestLog.Stays(logger, guestPid, (verdict as Stay)?.Reason ?? "its image did not reach home whole");
        if (frozen) engine.Thaw(guestPid);
        return false;
    }
}
