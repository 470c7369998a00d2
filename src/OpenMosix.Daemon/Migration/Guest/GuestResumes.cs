using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>A new omd at home asking for the relay of a copy (its <see cref="Resume"/>, on its new link); the
/// session that takes it completes <see cref="Done"/> when that relay ends, which holds the link open until then.</summary>
internal sealed record Resumption(Conversation Talk, Resume Request)
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The guests of this node by their home node and their PID there, so that a new omd at home, after the last one died
/// without a drain, can take one over: its resume request waits for the guest to find its old link gone (the request
/// may come first), and the guest waits, stopped, for the request. The new omd's link is authenticated as that home
/// node, so no other node can take a guest over.
/// </summary>
public sealed class GuestResumes
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(ushort Home, int HomePid), Expected> _guests = [];
    private readonly Dictionary<(ushort Home, int HomePid), RememberedExit> _exits = [];

    /// <summary>How long a guest's exit is remembered for its home (<see cref="RecentExit"/>): longer than home takes
    /// to find a link broken (its link timeout) and ask.</summary>
    public static readonly TimeSpan ExitsKept = TimeSpan.FromMinutes(2);

    /// <summary>The most exits remembered at once: the oldest go first.</summary>
    public const int MostExitsKept = 4096;

    /// <summary>The most of them kept with their output (up to <see cref="SentOutput.Kept"/> bytes of each stream):
    /// only exits whose link broke before home closed it are; the oldest give theirs up first.</summary>
    public const int MostOutputsKept = 64;

    /// <summary>The clock exits are kept by, in ms (tests set it).</summary>
    internal Func<long> Now { get; init; } = () => Environment.TickCount64;

    /// <summary>A guest that may be taken over: one resume request at a time is kept for it.</summary>
    internal sealed class Expected(GuestResumes owner, ushort home, int homePid, int remotePid) : IDisposable
    {
        private TaskCompletionSource<Resumption> _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int RemotePid { get; } = remotePid;

        /// <summary>Whether a request came and was not taken yet.</summary>
        public bool Pending
        {
            get
            {
                lock (owner._gate) return _arrived.Task.IsCompleted;
            }
        }

        internal bool Offer(Resumption resumption) => _arrived.TrySetResult(resumption);

        /// <summary>The copy exited and its status goes home now: remembered a while, for home to ask should the link
        /// break before home read it (<see cref="RecentExit"/>).</summary>
        public void Exiting(Exited exited) => owner.RememberExit(home, homePid, RemotePid, exited);

        /// <summary>The exit went home, and until home closes the link it may have read neither the exit nor the output
        /// before it. What the stay sent lately is kept with the exit, for home to be sent what it did not get when it
        /// asks (<see cref="ExitRead"/> lets it go).</summary>
        public void ExitMayBeUnread(GuestStay stay)
        {
            ArgumentNullException.ThrowIfNull(stay);
            KeepOutput(stay.Sent, stay.Input.Received);
        }

        /// <summary>Home closed the link after the exit, having read everything before it: the output kept for it goes
        /// (the exit is still remembered).</summary>
        public void ExitRead() => owner.DropOutput(home, homePid, RemotePid);

        /// <summary><see cref="ExitMayBeUnread"/>: what the copy's output pumps sent (each ended), and how much of its
        /// input this node took in all.</summary>
        internal void KeepOutput(IReadOnlyDictionary<int, SentOutput> sent, long inputReceived) =>
            owner.KeepOutput(home, homePid, RemotePid, sent, inputReceived);

        /// <summary>The request, once one comes within <paramref name="window"/>; null if none does. Once taken, the
        /// next request (a later takeover) is awaited anew.</summary>
        public async Task<Resumption?> WaitAsync(TimeSpan window, CancellationToken cancel)
        {
            Task<Resumption> arrived;
            lock (owner._gate) arrived = _arrived.Task;
            try
            {
                await arrived.WaitAsync(window, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Handed over in the same moment: taken after all, below.
            }
            lock (owner._gate)
            {
                if (!arrived.IsCompletedSuccessfully) return null;
                _arrived = new TaskCompletionSource<Resumption>(TaskCreationOptions.RunContinuationsAsynchronously);
                return arrived.Result;
            }
        }

        /// <summary>The guest is gone: it can be taken over no more, and a request not taken hears so.</summary>
        public void Dispose()
        {
            Resumption? untaken;
            lock (owner._gate)
            {
                if (owner._guests.TryGetValue((home, homePid), out var current) && current == this) owner._guests.Remove((home, homePid));
                untaken = _arrived.Task.IsCompletedSuccessfully ? _arrived.Task.Result : null;
                _arrived.TrySetCanceled();
            }
            // Asked as the copy ended (home's link broke after its exit was sent): home hears how it ended.
            if (untaken is not null && owner.RecentEnd(home, homePid, RemotePid) is { } end) _ = AnswerAsync(untaken, end);
            else if (untaken is not null) _ = RefuseAsync(untaken, $"the copy of process {homePid} of node {home} has ended");
        }
    }

    /// <summary>Registers a guest (copy <paramref name="remotePid"/> of process <paramref name="homePid"/> of node
    /// <paramref name="home"/>) for as long as it stays here.</summary>
    internal Expected Expect(ushort home, int homePid, int remotePid)
    {
        var expected = new Expected(this, home, homePid, remotePid);
        lock (_gate) _guests[(home, homePid)] = expected;
        return expected;
    }

    /// <summary>Hands a resume request to the guest it names; false when there is none (it ended), or it is another
    /// copy, or a request for it is already waiting.</summary>
    internal bool Hand(ushort home, Resumption resumption)
    {
        lock (_gate)
            return _guests.TryGetValue((home, resumption.Request.HomePid), out var expected)
                && expected.RemotePid == resumption.Request.RemotePid
                && expected.Offer(resumption);
    }

    private void RememberExit(ushort home, int homePid, int remotePid, Exited exited)
    {
        lock (_gate)
        {
            var now = Now();
            foreach (var key in _exits.Where(e => now - e.Value.At > ExitsKept.TotalMilliseconds).Select(e => e.Key).ToList()) _exits.Remove(key);
            if (_exits.Count >= MostExitsKept) _exits.Remove(_exits.MinBy(e => e.Value.At).Key);
            _exits[(home, homePid)] = new RememberedExit(remotePid, exited with { UnreadInput = null }, now);
        }
    }

    private void DropOutput(ushort home, int homePid, int remotePid)
    {
        lock (_gate)
            if (_exits.TryGetValue((home, homePid), out var e) && e.RemotePid == remotePid)
                _exits[(home, homePid)] = e with { Output = null };
    }

    private void KeepOutput(ushort home, int homePid, int remotePid, IReadOnlyDictionary<int, SentOutput> sent, long inputReceived)
    {
        lock (_gate)
        {
            if (!_exits.TryGetValue((home, homePid), out var e) || e.RemotePid != remotePid) return;
            _exits[(home, homePid)] = e with { Output = sent, InputReceived = inputReceived };
            var withOutput = _exits.Where(x => x.Value.Output is not null).ToList();
            foreach (var (key, oldest) in withOutput.OrderBy(x => x.Value.At).Take(withOutput.Count - MostOutputsKept))
                _exits[key] = oldest with { Output = null };
        }
    }

    /// <summary>
    /// How copy <paramref name="remotePid"/> of process <paramref name="homePid"/> of node <paramref name="home"/>
    /// ended, if it did here within <see cref="ExitsKept"/>; null otherwise. Home asks (a <see cref="Resume"/>) when its
    /// link broke before it read the exit: the copy's exit then reaches it once, by this answer, and its deputy ends as
    /// the copy did instead of as if killed.
    /// </summary>
    internal Exited? RecentExit(ushort home, int homePid, int remotePid) => RecentEnd(home, homePid, remotePid)?.Exit;

    /// <summary><see cref="RecentExit"/>, with the output kept with it (<see cref="Expected.ExitMayBeUnread"/>).</summary>
    internal RememberedExit? RecentEnd(ushort home, int homePid, int remotePid)
    {
        lock (_gate)
            return _exits.TryGetValue((home, homePid), out var e) && e.RemotePid == remotePid && Now() - e.At <= ExitsKept.TotalMilliseconds
                ? e : null;
    }

    /// <summary>How many guests may be taken over now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _guests.Count;
        }
    }

    internal static Task RefuseAsync(Resumption resumption, string why) => AnswerAsync(resumption, new Refuse(why));

    private static async Task AnswerAsync(Resumption resumption, MigrationMessage answer)
    {
        try
        {
            await resumption.Talk.SendAsync(answer).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // Gone already: it hears nothing either way.
        }
        resumption.Done.TrySetResult();
    }

    private static async Task AnswerAsync(Resumption resumption, RememberedExit end)
    {
        try
        {
            await TellAsync(resumption.Talk, resumption.Request, end, CancellationToken.None).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // Gone already: it hears nothing either way.
        }
        resumption.Done.TrySetResult();
    }

    /// <summary>
    /// Tells home, asking on <paramref name="talk"/>, how its copy ended here. With none of its output to send again,
    /// by its <see cref="Exited"/> alone; otherwise as a relay resumed on this link would: <see cref="Resumed"/>, the
    /// output home did not deliver (from what <paramref name="request"/> says it did), the exit, and then the link is
    /// held until home closes it, so that nothing it still sends resets the link under what home has to read. Returns
    /// the bytes of output sent again; null when some of it was no longer kept (the exit alone is told then).
    /// </summary>
    internal static async Task<long?> TellAsync(Conversation talk, Resume request, RememberedExit end, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(talk);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(end);
        var unsent = end.Unsent(request.Delivered);
        if (unsent is null || unsent.Values.All(b => b.Length == 0))
        {
            await talk.SendAsync(end.Exit, cancel).ConfigureAwait(false);
            return end.Output is null || unsent is not null ? 0 : null;
        }
        await talk.SendAsync(new Resumed(end.InputReceived), cancel).ConfigureAwait(false);
        await GuestRelay.SendOutputAsync(talk.Link, unsent, cancel).ConfigureAwait(false);
        await talk.SendAsync(end.Exit, cancel).ConfigureAwait(false);
        await GuestRelay.WaitForCloseAsync(talk.Link, cancel).ConfigureAwait(false);
        return unsent.Values.Sum(b => (long)b.Length);
    }
}

/// <summary>A copy's exit as its node remembers it for home (<see cref="GuestResumes.RecentEnd"/>): with
/// <see cref="Output"/> (what it sent of each output lately) and <see cref="InputReceived"/> when the link broke
/// before home closed it.</summary>
internal sealed record RememberedExit(int RemotePid, Exited Exit, long At)
{
    public IReadOnlyDictionary<int, SentOutput>? Output { get; init; }

    public long InputReceived { get; init; }

    /// <summary>What home has not been sent of each output, past what it says it delivered; null when nothing was
    /// kept, or some of it is no longer.</summary>
    public Dictionary<int, byte[]>? Unsent(IReadOnlyList<OutputCount> delivered)
    {
        if (Output is null) return null;
        var unsent = new Dictionary<int, byte[]>();
        foreach (var (fd, sent) in Output)
        {
            if (sent.After(delivered.FirstOrDefault(d => d.Fd == fd)?.Bytes ?? 0) is not { } bytes) return null;
            unsent[fd] = bytes;
        }
        return unsent;
    }
}
