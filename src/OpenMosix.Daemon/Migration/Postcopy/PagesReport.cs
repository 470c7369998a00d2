using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>
/// The copy's node's end of a post-copy once the copy runs: when every page is in (or the copy no longer needs them:
/// it ended or executed another program) home hears it (<see cref="PagesHeld"/>) and lets the original go. When the
/// pages could not be had, the copy was killed (<see cref="PostcopyServer"/>) and the link is declared dead, so that
/// home, which still has the original whole, runs it on: a copy that died for want of pages is never reported home
/// as the process's end. A home silent for half the link timeout meanwhile ends the copy too (never two copies).
/// </summary>
internal static class PagesReport
{
    public static async Task RunAsync(PostcopyServer server, Conversation talk, int homePid, ILogger logger)
    {
        try
        {
            if (await HomeWentSilentAsync(server, talk.Link).ConfigureAwait(false) is { } silent)
            {
                // Never two copies: home runs the original on once its end of the link has been silent a whole
                // timeout and a heartbeat; the copy is gone long before, and has done nothing more meanwhile.
                logger.LogWarning("Process {Pid}: home silent for {Ms:F0} ms mid-post-copy; its copy here is killed before home may run the original on", homePid, silent.TotalMilliseconds);
                talk.Link.Abandon($"home was silent for {silent.TotalSeconds:F1} s in the middle of the post-copy of process {homePid}");
                return;
            }
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
            // A copy still missing pages is killed (a link abandoned above also fails its next fetch).
            server.Dispose();
        }
    }

    /// <summary>
    /// Waits for the post-copy to end, watching the link: null when it ended; how long home had been silent when that
    /// reached half the link timeout first. A copy whose pages come from a home it cannot hear must stop at once, not
    /// after the link timeout, when home, hearing as little, may already run the original on.
    /// </summary>
    private static async Task<TimeSpan?> HomeWentSilentAsync(PostcopyServer server, NodeLink link)
    {
        if (link.Liveness is not { } liveness) return null;
        var limit = liveness.Timeout / 2;
        var look = liveness.HeartbeatInterval / 4;
        while (!server.Completion.IsCompleted)
        {
            await Task.WhenAny(server.Completion, Task.Delay(look)).ConfigureAwait(false);
            if (!server.Completion.IsCompleted && link.Silence >= limit) return link.Silence;
        }
        return null;
    }
}
