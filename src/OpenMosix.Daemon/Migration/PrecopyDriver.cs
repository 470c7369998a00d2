using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Postcopy;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Copies the process's memory to the other end in rounds while it runs on: everything first, then what it wrote
/// meanwhile, until that stops shrinking, drops under <see cref="SmallEnough"/>, or the rounds run out
/// (<see cref="PostcopyChoice.AfterRound"/>). Each round is
/// an image of its own on the link, acknowledged by the other end. A kernel without write tracking means no pre-copy
/// (the whole image then goes frozen); a refusal of the other end ends the move with the process untouched. Home
/// drives it on the way out, the node the copy runs on on the way home.
/// </summary>
internal static class PrecopyDriver
{
    /// <summary>A round that copied less than this ends the pre-copy: the freeze takes the rest in a few ms.</summary>
    public const long SmallEnough = 4 << 20;

    /// <summary>The rounds; <paramref name="answer"/> waits for the other end's answer to one: null when it took the
    /// round, else why it did not (a <see cref="MigrationException"/> then). With <paramref name="postcopy"/> (a move
    /// out in auto mode) rounds that do not converge end in <see cref="NextStep.Postcopy"/>
    /// (<see cref="Postcopy.PostcopyChoice.AfterRound"/>). <paramref name="pacer"/> holds the rounds to the move's
    /// bandwidth limit.</summary>
    public static async Task<(IPrecopyRounds? Session, int Rounds, long Bytes, bool Postcopy)> RunAsync(
        IMigrationEngine engine, int pid, Conversation talk, int maxRounds, Func<Task<string?>> answer, CancellationToken cancel,
        Home.MoveProgress? progress = null, IPrecopyRounds? started = null, bool postcopy = false, BandwidthPacer? pacer = null,
        Action<string>? mark = null)
    {
        // Started already: its write tracking measured the process before the first round (post-copy's auto choice).
        var session = started ?? await Blocking.Run(() => engine.StartPrecopy(pid)).ConfigureAwait(false);
        if (started is null) mark?.Invoke("tracking");
        if (session is null) return (null, 0, 0, false);
        try
        {
            var total = 0L;
            var previous = long.MaxValue;
            var next = NextStep.Freeze;
            for (var round = 1; round <= maxRounds; round++)
            {
                await talk.SendAsync(new PrecopyRound(round), cancel).ConfigureAwait(false);
                progress?.Enter(OpenMosix.Admin.MigrationProgress.Precopy, round);
                var sent = await LinkImageWriteStream.SendAsync(talk.Link, session.WriteRound, progress?.PerFrame, pacer).ConfigureAwait(false);
                progress?.Done(sent);
                mark?.Invoke($"round {round}");
                if (await answer().ConfigureAwait(false) is { } refused) throw new MigrationException(refused);
                mark?.Invoke($"round {round} taken");
                total += sent;
                // What is left is known without copying it: the pages written since this round began.
                var pending = (long)Math.Min(session.PendingBytes(), long.MaxValue);
                next = Postcopy.PostcopyChoice.AfterRound(round, maxRounds, sent, previous, pending, postcopy);
                if (next != NextStep.Round) break;
                previous = sent;
            }
            return (session, session.Rounds, total, next == NextStep.Postcopy);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
