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
            if (untaken is not null) _ = RefuseAsync(untaken, $"the copy of process {homePid} of node {home} has ended");
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

    /// <summary>How many guests may be taken over now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _guests.Count;
        }
    }

    internal static async Task RefuseAsync(Resumption resumption, string why)
    {
        try
        {
            await resumption.Talk.SendAsync(new Refuse(why)).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // Gone already: it hears nothing either way.
        }
        resumption.Done.TrySetResult();
    }
}
