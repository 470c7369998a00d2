using OpenMosix.Daemon.Migration.Postcopy;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// A process moved out by post-copy, while its copy still fetches pages: home keeps the original frozen and whole,
/// serving them (<see cref="HomePageService"/>), until the copy's node says it holds every page
/// (<see cref="PagesHeld"/>) or the copy ended; only then is the original emptied into its deputy, as after any move.
/// If the link ends first the copy is killed on its node (it cannot read a page it lacks), and the original runs on
/// here from where it was frozen: the process is not lost (docs/reliability.md).
/// </summary>
internal sealed class PostcopyHold(HomeSide home, ManagedProcess process, ushort target, HomePageService service)
{
    private readonly System.Diagnostics.Stopwatch _since = System.Diagnostics.Stopwatch.StartNew();
    private readonly TaskCompletionSource _over = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the post-copy is over either way: the original is the deputy (or gone), or runs on here.
    /// A trip home or a move on waits for it (<see cref="HomeMigration"/>): the copy must hold every page first.</summary>
    public Task Over => _over.Task;

    /// <summary>The original was given up for its copy (a deputy now, or about to be).</summary>
    public bool Released { get; private set; }

    public HomePageService Service => service;

    /// <summary>Every page is there (<paramref name="held"/>), or the copy ended (null): the original becomes the deputy.</summary>
    public async Task ReleaseAsync(PagesHeld? held)
    {
        if (Released) return;
        Released = true;
        try
        {
            await ReleaseNowAsync(held).ConfigureAwait(false);
        }
        finally
        {
            _over.TrySetResult();
        }
    }

    private async Task ReleaseNowAsync(PagesHeld? held)
    {
        await service.Stop(held is null ? "the copy ended" : "every page is held there").ConfigureAwait(false);
        home.Logger.LogInformation(
            "Process {Pid}: post-copy to node {Node} done in {Ms:F0} ms ({How}): {MiB:F1} MiB served from the frozen original in {Requests} requests ({ZeroMiB:F1} MiB of it zero pages)",
            process.Pid, target, _since.Elapsed.TotalMilliseconds,
            held is null ? "the copy ended first" : $"{held.Bytes >> 20} MiB held there, {held.Faults} faults",
            service.BytesServed / 1048576.0, service.Requests, service.ZeroBytesServed / 1048576.0);
        try
        {
            home.Deputies.MakeDeputy(process.Pid);
        }
        catch (Checkpoint.Tracing.TraceeGoneException e)
        {
            // Killed here meanwhile: its parent saw that death; its copy must not live on (the caller ends the link).
            home.Registry.Forget(process.Pid);
            throw new MigrationException($"process {process.Pid} was killed at home during its post-copy to node {target}", e);
        }
    }

    /// <summary>
    /// The link ended before the copy held every page: the copy is (being) killed on its node, and the original,
    /// which still has all its memory, runs on here. False when it cannot (it was killed here meanwhile: then it is
    /// gone, as its parent saw).
    /// </summary>
    public async Task<bool> ResumeHereAsync(string why)
    {
        Released = true;
        try
        {
            return await ResumeNowAsync(why).ConfigureAwait(false);
        }
        finally
        {
            _over.TrySetResult();
        }
    }

    private async Task<bool> ResumeNowAsync(string why)
    {
        await service.Stop(why).ConfigureAwait(false);
        try
        {
            home.Engine.Thaw(process.Pid);
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException or InvalidOperationException or Checkpoint.Tracing.TraceeGoneException)
        {
            home.Logger.LogWarning("Process {Pid}: its post-copy to node {Node} broke ({Why}) and it cannot run on here: {Error}", process.Pid, target, why, e.Message);
            home.Registry.Forget(process.Pid);
            return false;
        }
        home.Registry.Update(process, p =>
        {
            p.State = ProcessState.Home;
            p.Where = process.Home;
            p.RemotePid = 0;
            p.Migrations--;
        });
        home.Logger.LogWarning("Process {Pid}: its post-copy to node {Node} broke after {Ms:F0} ms ({Why}); the copy there is killed and the original runs on here",
            process.Pid, target, _since.Elapsed.TotalMilliseconds, why);
        return true;
    }
}
