using OpenMosix.Checkpoint.Restore;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Takes an accepted process in: pre-copy rounds while it still runs at home, each acknowledged, then the final
/// image, restored frozen. On failure what was built is dropped and home hears why (unless the link broke).
/// </summary>
internal static class IncomingRestore
{
    /// <summary>The restored copy, frozen; null when it failed (logged, and home told).</summary>
    public static async Task<RestoredProcess?> RunAsync(IMigrationEngine engine, Conversation talk, RelayPipes pipes,
        Action<string> failed, CancellationToken cancel)
    {
        var incoming = engine.Receive(pipes.Create);
        try
        {
            while (await talk.ReceiveAsync(GuestSession.AnswerTimeout).ConfigureAwait(false) is PrecopyRound)
            {
                await Blocking.Run(() =>
                {
                    incoming.TakeRound(new LinkImageReadStream(talk.Link));
                    return 0;
                }).ConfigureAwait(false);
                await talk.SendAsync(new RoundTaken(), cancel).ConfigureAwait(false);
            }
            return await Blocking.Run(() => incoming.Finish(new LinkImageReadStream(talk.Link))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            incoming.Abandon();
            failed(e.Message);
            if (e is not LinkException) await talk.SendAsync(new Failed(e.Message), cancel).ConfigureAwait(false);
            return null;
        }
    }
}
