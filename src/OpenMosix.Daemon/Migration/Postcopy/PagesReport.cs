using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>
/// The copy's node's end of a post-copy once the copy runs: when every page is in (or the copy no longer needs them:
/// it ended or executed another program) home hears it (<see cref="PagesHeld"/>) and lets the original go. When the
/// pages could not be had, the copy was killed (<see cref="PostcopyServer"/>) and the link is declared dead, so that
/// home, which still has the original whole, runs it on: a copy that died for want of pages is never reported home
/// as the process's end.
/// </summary>
internal static class PagesReport
{
    public static async Task RunAsync(PostcopyServer server, Conversation talk, int homePid, ILogger logger)
    {
        try
        {
            var outcome = await server.Completion.ConfigureAwait(false);
            if (outcome == PostcopyOutcome.Killed)
            {
                var why = $"the post-copy of process {homePid} failed ({server.Failure?.Message ?? "stopped"}): its copy here was killed";
                logger.LogWarning("{Why}; home runs the original on", why);
                talk.Link.Abandon(why);
                return;
            }
            var bytes = (long)(server.BytesByFault + server.BytesPushed);
            logger.LogInformation("Process {Pid}: every page is here after {Ms:F0} ms ({MiB:F1} MiB: {Faults} faults, {FaultMiB:F1} MiB of them by fault; {Outcome})",
                homePid, server.Duration.TotalMilliseconds, bytes / 1048576.0, server.FaultsServed, server.BytesByFault / 1048576.0, outcome);
            await talk.SendAsync(new PagesHeld(bytes, server.FaultsServed, (long)server.Duration.TotalMilliseconds)).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // The conversation ended first (the copy exited and said so, or the link is gone): nothing more to say.
        }
        finally
        {
            server.Dispose();
        }
    }
}
