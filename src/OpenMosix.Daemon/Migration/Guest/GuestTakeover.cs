using System.Net;
using System.Net.Sockets;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// A guest whose home's omd went away without a drain (SIGKILL, a crash of omd alone) while its home node stays up:
/// the copy is stopped (SIGSTOP: it can do nothing meanwhile, so it can never run beside a restart of it at home) and
/// waits for a new omd at home to take it over (<see cref="Resume"/>). It is told from the rest by how the link ended
/// and by a probe: the link closed at once (the dead omd's kernel closed its socket), not declared dead by its silence,
/// and a connection to home's migration port is refused (the node is up, no omd listens there). A home node gone
/// silent (a partition, a crash) is not waited for: the copy is killed as before, and home restarts it from its
/// checkpoint; nor is a home omd that is there and closed the link itself (its deputy was killed).
/// </summary>
internal sealed class GuestTakeover(ushort home, int homePid, int guestPid, GuestStay stay, GuestResumes.Expected expected, Func<ushort, IPEndPoint?>? homeEndpoint,
    TimeSpan window, ILogger logger)
{
    /// <summary>How long home's node has to refuse a connection to count as up without an omd.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A dying omd's kernel may close the link's socket before its listening one (in the order of their descriptor
    /// numbers): a connection taken in that moment is tried again a few times before home's omd counts as alive.
    /// </summary>
    private const int ProbeAttempts = 5;
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);

    private ushort Home => home;

    /// <summary>What the omd that took over home has not got yet of each output (set by <see cref="WaitAsync"/>).</summary>
    public IReadOnlyDictionary<int, byte[]>? Unsent { get; private set; }

    /// <summary>Home's <paramref name="link"/> is lost: true when the copy now waits, stopped, for a new omd at home.</summary>
    public async Task<bool> DetachAsync(NodeLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (homeEndpoint?.Invoke(Home) is not { } endpoint) return false;
        // The new omd asked already (it may start before this end noticed the old link was gone).
        if (expected.Pending) return Stop();
        if (link.WentSilent) return false;
        if (!await HasNoOmdAsync(endpoint).ConfigureAwait(false))
        {
            // An omd answers there: the one that closed the link, or already its successor (a restart after a crash
            // takes well under a second), whose resume may be on its way. Give it a moment before giving up.
            if (await ResumeComesAsync().ConfigureAwait(false)) return Stop();
            GuestLog.NotWaiting(logger, guestPid, Home, endpoint.ToString());
            return false;
        }
        return Stop();
    }

    /// <summary>How long a copy whose home answers on its port waits for a new omd's resume before it is given up.</summary>
    internal static readonly TimeSpan ResumeGrace = TimeSpan.FromSeconds(5);

    private async Task<bool> ResumeComesAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!expected.Pending)
        {
            if (clock.Elapsed >= ResumeGrace) return false;
            await Task.Delay(100).ConfigureAwait(false);
        }
        return true;
    }

    private bool Stop()
    {
        try
        {
            Signals.Kill(guestPid, Signals.SIGSTOP);
        }
        catch (ProcessAccessException)
        {
            // It ended just now: its exit waits for home like its output.
        }
        GuestLog.WaitingForHome(logger, guestPid, homePid, Home, window.TotalSeconds);
        return true;
    }

    /// <summary>The resumption once a new omd at home took the copy over (the copy runs again); null when none came
    /// within the window, or it asked for output no longer kept: the copy is killed then. With
    /// <paramref name="killOnStop"/> false, a wait ended by this omd's stop returns null and leaves the copy stopped (an
    /// adopted copy is left to its keeper for the next omd).</summary>
    public async Task<Resumption?> WaitAsync(CancellationToken cancel, bool killOnStop = true)
    {
        var resumed = await expected.WaitAsync(window, cancel).ConfigureAwait(false);
        if (resumed is null && !killOnStop && cancel.IsCancellationRequested) return null;
        string? refusal = null;
        if (resumed is not null)
        {
            Unsent = stay.Unsent(resumed.Request.Delivered);
            refusal = Unsent is null ? $"the output of guest {guestPid} since what home delivered is no longer kept" : null;
        }
        if (resumed is null || refusal is not null)
        {
            GuestLog.NotTakenOver(logger, guestPid, homePid, Home, refusal ?? $"no omd of node {Home} took it over within {window.TotalSeconds:F0} s");
            await KillAsync().ConfigureAwait(false);
            if (resumed is not null) await GuestResumes.RefuseAsync(resumed, refusal!).ConfigureAwait(false);
            return null;
        }
        try
        {
            await resumed.Talk.SendAsync(new Resumed(stay.Input.Received), cancel).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            GuestLog.NotTakenOver(logger, guestPid, homePid, Home, e.Message);
            await KillAsync().ConfigureAwait(false);
            resumed.Done.TrySetResult();
            return null;
        }
        Signals.Kill(guestPid, Signals.SIGCONT);
        GuestLog.TakenOver(logger, guestPid, homePid, Home, Unsent!.Values.Sum(b => (long)b.Length));
        return resumed;
    }

    /// <summary>A resume request from node <paramref name="talk"/>'s peer goes to the guest that waits for it, and
    /// this returns once that guest's relay on this link ends; with none waiting, home hears so.</summary>
    public static async Task HandAsync(GuestResumes? resumes, Conversation talk, Resume request, ILogger logger, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(talk);
        ArgumentNullException.ThrowIfNull(request);
        var resumption = new Resumption(talk, request);
        if (resumes?.Hand(talk.Link.PeerNode, resumption) != true)
        {
            if (resumes?.RecentEnd(talk.Link.PeerNode, request.HomePid, request.RemotePid) is { } end)
            {
                // It ended here and home's link broke before home read that: home hears the exit now, after the
                // output it did not get, and ends its deputy as the copy ended, not as if killed.
                GuestLog.ExitToldAgain(logger, request.HomePid, talk.Link.PeerNode, new Checkpoint.Engine.ExitStatus(end.Exit.Code, end.Exit.Signal).ToString());
                var resent = await GuestResumes.TellAsync(talk, request, end, cancel).ConfigureAwait(false);
                if (resent is null) GuestLog.OutputNoLongerKept(logger, request.HomePid, talk.Link.PeerNode);
                else if (resent > 0) GuestLog.OutputToldAgain(logger, request.HomePid, talk.Link.PeerNode, resent.Value);
                return;
            }
            var why = $"no copy of process {request.HomePid} of node {talk.Link.PeerNode} waits here as {request.RemotePid} to be taken over";
            GuestLog.Refused(logger, request.HomePid, talk.Link.PeerNode, why);
            await talk.SendAsync(new Refuse(why), cancel).ConfigureAwait(false);
            return;
        }
        await resumption.Done.Task.WaitAsync(cancel).ConfigureAwait(false);
    }

    private async Task KillAsync()
    {
        try
        {
            Signals.Kill(guestPid, Signals.SIGKILL);
        }
        catch (ProcessAccessException)
        {
            // Ended already.
        }
        await stay.Exit.ConfigureAwait(false);
    }

    /// <summary>Whether the node is up with no omd at its migration port: a connection is refused.</summary>
    private static async Task<bool> HasNoOmdAsync(IPEndPoint endpoint)
    {
        for (var attempt = 1; attempt <= ProbeAttempts; attempt++)
        {
            switch (await ProbeAsync(endpoint).ConfigureAwait(false))
            {
                case false:
                    return true;
                case null:
                    return false;
            }
            if (attempt < ProbeAttempts) await Task.Delay(ProbeInterval).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>True: a connection was taken; false: refused; null: no answer in time (the node is unreachable).</summary>
    private static async Task<bool?> ProbeAsync(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionRefused ? false : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
