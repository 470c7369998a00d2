using Microsoft.Extensions.Logging;
using OpenMosix.Cluster.Transport;
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
        try
        {
            await LinkImageWriteStream.SendAsync(talk.Link, image => engine.CheckpointFrozen(guestPid, image)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GuestLog.SendHomeFailed(logger, guestPid, e.Message);
            talk.ReturnAbandoned();
            return false;
        }
        MigrationMessage verdict;
        while (true)
        {
            var frame = await talk.Link.ReceiveAsync(cancel).ConfigureAwait(false);
            if (frame is null)
            {
                engine.Thaw(guestPid);
                return false;
            }
            // Input home read before it froze the process has nowhere to go now.
            if (frame.Value.Type != FrameType.Control) continue;
            verdict = talk.Read(frame.Value);
            break;
        }
        if (verdict is WelcomeHome)
        {
            leaving();
            engine.KillFrozen(guestPid);
            return true;
        }
        GuestLog.Stays(logger, guestPid, ((Stay)verdict).Reason);
        engine.Thaw(guestPid);
        return false;
    }
}
