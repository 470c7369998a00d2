using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>How a relay ends: resumed on a new link, or its deputy ended as the copy did (or as if killed).</summary>
internal sealed partial class HomeRelay
{
    /// <summary>
    /// The link closed (not silent: the copy's node is up) with the copy's state unknown: its omd may have been killed
    /// and a new one adopted the copy, stopped. Home gives up this relay (a new one takes the process's registration
    /// over) and asks that node, within the takeover window, to relay the copy on a new link, as a new omd at home
    /// would (<see cref="HomeTakeover"/>). <see cref="Resumed"/> once the relay runs again; otherwise why not (null
    /// when this does not apply), and the process is restarted from its checkpoint or lost, as before. Never two copies: the waiting copy runs again only if resumed.
    /// </summary>
    private async Task<ResumeAnswer> ResumeAfterItsOmdDiedAsync(DeliveredCounts counts, string lost, InputLedger? ledger)
    {
        if (home.ResumeAway is not { } resume || talk.Link.WentSilent || home.Away?.Find(Pid) is not { } saved || !Signals.Exists(Pid)) return new(null);
        var relay = home.Relays.Remove(Pid);
        await talk.Link.DisposeAsync().ConfigureAwait(false);
        HomeLog.WaitingForCopyNode(home.Logger, Pid, saved.Node, lost);
        home.SignalsOnHold.Open(Pid);
        var (why, ended) = await resume(process, saved, counts, ledger).ConfigureAwait(false);
        // Not resumed: the copy was killed there or had ended, and what was held goes with it.
        if (why is not null || ended is not null) home.SignalsOnHold.Close(Pid);
        if ((why is not null || ended is not null) && relay is not null) home.Relays.Add(relay);
        // Its exit was sent as the link broke: the node remembered it, and the deputy ends as the copy did.
        if (ended is not null) return new(null, ended);
        // A trip home the link broke (its omd killed as it sent the image) is over: `om migrate` hears so, not never.
        if (why is null) relay?.Homecoming?.TrySetException(new MigrationException($"process {Pid} did not come home: {lost}; it runs on on node {saved.Node}"));
        return new(why is null ? Resumed : $"not resumed on node {saved.Node}: {why}");
    }

    private const string Resumed = "resumed";

    private static ForkedAway.Forked ForkedAwayOf(ForkedChild c) =>
        new(c.Pid, c.ParentPid, c.Uid, (ushort)c.Where, c.RemotePid, c.State, c.Command, c.CpuSeconds, c.MemoryBytes);

    /// <summary>The copy is gone: the deputy ends as it did, or as if killed when nobody knows how it ended.</summary>
    private void End(ExitStatus? status, string? lost) => End(home, process, status, lost);

    /// <summary>The copy ended as <paramref name="status"/> says, heard late (asked of its node): the deputy ends so.</summary>
    public static void EndAs(HomeSide home, ManagedProcess process, ExitStatus status) => End(home, process, status, null);

    /// <summary>The process is lost (its copy gone, or out of reach): the deputy ends as if killed.</summary>
    public static void Lose(HomeSide home, ManagedProcess process, string why) => End(home, process, null, why);

    private static void End(HomeSide home, ManagedProcess process, ExitStatus? status, string? lost)
    {
        var pid = process.Pid;
        if (status is { } done)
        {
            HomeLog.RemoteExit(home.Logger, pid, done.ToString());
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            TryEnd(home, pid, done);
            home.Registry.Forget(pid);
            return;
        }
        HomeLog.Lost(home.Logger, pid, process.Where, lost ?? "unknown");
        home.Registry.Update(process, p => p.State = ProcessState.Lost);
        TryEnd(home, pid, new ExitStatus(0, Signals.SIGKILL));
    }

    private static void TryEnd(HomeSide home, int pid, ExitStatus status)
    {
        try
        {
            home.Deputies.EndDeputy(pid, status);
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException or ProcessAccessException
                                       or Checkpoint.Tracing.InjectionException or Checkpoint.Tracing.TraceeGoneException)
        {
            // Gone already (killed at home), or it cannot be driven: it must not hang its parent, so it dies.
            HomeLog.DeputyGone(home.Logger, pid, e.Message);
            if (Signals.Exists(pid)) Signals.Kill(pid, Signals.SIGKILL);
        }
    }

    /// <summary>The copy changed its terminal's modes: the real terminal, here, takes them, as if it had done so at home.</summary>
    private void ApplyTerminalModes(byte[] modes)
    {
        if (home.Relays.Find(Pid)?.Terminal is not { IsClosed: false } terminal) return;
        try
        {
            Terminal.WriteModes(terminal, modes);
        }
        catch (SyscallException e)
        {
            HomeLog.TerminalModes(home.Logger, Pid, e.Message);
        }
    }
}
