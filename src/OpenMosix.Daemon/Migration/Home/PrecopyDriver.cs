using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Copies the process's memory to the target in rounds while it runs on: everything first, then what it wrote
/// meanwhile, until that stops shrinking, drops under <see cref="SmallEnough"/>, or the rounds run out. Each round is
/// an image of its own on the link, acknowledged by the target. A kernel without write tracking means no pre-copy
/// (the whole image then goes frozen); a failure of the target ends the migration with the process untouched.
/// </summary>
internal static class PrecopyDriver
{
    /// <summary>A round that copied less than this ends the pre-copy: the freeze takes the rest in a few ms.</summary>
    public const long SmallEnough = 4 << 20;

    public static async Task<(IPrecopyRounds? Session, int Rounds, long Bytes)> RunAsync(
        IMigrationEngine engine, int pid, ushort target, Conversation talk, int maxRounds, CancellationToken cancel, MoveProgress? progress = null)
    {
        var session = await Blocking.Run(() => engine.StartPrecopy(pid)).ConfigureAwait(false);
        if (session is null) return (null, 0, 0);
        try
        {
            var total = 0L;
            var previous = long.MaxValue;
            for (var round = 1; round <= maxRounds; round++)
            {
                await talk.SendAsync(new PrecopyRound(round), cancel).ConfigureAwait(false);
                progress?.Enter(OpenMosix.Admin.MigrationProgress.Precopy, round);
                var sent = await LinkImageWriteStream.SendAsync(talk.Link, session.WriteRound, progress?.PerFrame).ConfigureAwait(false);
                progress?.Done(sent);
                if (await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false) is Failed failed)
                    throw new MigrationException($"node {target} could not take the pre-copy of process {pid}: {failed.Reason}");
                total += sent;
                // Stop once what is left is small, or no longer shrinking: another round would not shorten the freeze.
                // What is left is known without copying it: the pages written since this round began.
                var pending = (long)Math.Min(session.PendingBytes(), long.MaxValue);
                if (ShouldStop(round, sent, previous, pending)) break;
                previous = sent;
            }
            return (session, session.Rounds, total);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Whether another round after this one would not shorten the freeze.</summary>
    public static bool ShouldStop(int round, long sent, long previous, long pending) =>
        sent < SmallEnough || pending < SmallEnough || pending > sent / 2 || (round > 1 && sent > previous / 2);
}
