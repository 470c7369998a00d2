using OpenMosix.Checkpoint.Image;
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
    /// <summary>How long a post-copied copy waits for one answer from home before the link is declared dead (a dead
    /// link is noticed sooner by its heartbeats).</summary>
    public static readonly TimeSpan PagePatience = TimeSpan.FromSeconds(60);

    /// <summary>The restored copy, frozen; null when it failed or its image was refused (logged, and home told).
    /// <paramref name="pushPacer"/> holds a post-copy's background fetch to the bandwidth limit.</summary>
    public static async Task<RestoredProcess?> RunAsync(IMigrationEngine engine, Conversation talk, RelayPipes pipes,
        Func<ProcessImage, string?> refusal, Action<string, bool> failed, CancellationToken cancel, bool forwardPaths = false,
        bool forwardSockets = false, BandwidthPacer? pushPacer = null, Action<string>? mark = null)
    {
        var incoming = engine.Receive(pipes.Create, refusal, forwardPaths, forwardSockets);
        try
        {
            MigrationMessage next;
            while ((next = await talk.ReceiveAsync(GuestSession.AnswerTimeout).ConfigureAwait(false)) is PrecopyRound)
            {
                await Blocking.Run(() =>
                {
                    incoming.TakeRound(new LinkImageReadStream(talk.Link));
                    return 0;
                }).ConfigureAwait(false);
                await talk.SendAsync(new RoundTaken(), cancel).ConfigureAwait(false);
                mark?.Invoke("round");
            }
            if (next is PostcopyFinal)
            {
                // Its memory stays at home and comes as it is needed; after rounds, what changed since the last one.
                var pages = new Postcopy.LinkPageSource(talk.Link, PagePatience) { Pacer = pushPacer }.Attach();
                if (!incoming.LeaveMemoryAtHome(pages))
                {
                    incoming.Abandon();
                    incoming = engine.ReceivePostcopy(pipes.Create, refusal, forwardPaths, pages, forwardSockets);
                }
            }
            mark?.Invoke("final asked");
            var finished = await Blocking.Run(() => incoming.Finish(new LinkImageReadStream(talk.Link))).ConfigureAwait(false);
            mark?.Invoke("final image");
            return finished;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            incoming.Abandon();
            var refused = e is ImageRefusedException;
            failed(e.Message, refused);
            if (e is not LinkException) await talk.SendAsync(new Failed(refused ? $"refused: {e.Message}" : e.Message), cancel).ConfigureAwait(false);
            return null;
        }
    }
}
