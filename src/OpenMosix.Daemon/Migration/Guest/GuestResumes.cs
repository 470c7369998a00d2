using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>A new omd at home asking for the relay of a copy (its <see cref="Resume"/>, on its new link); the
/// session that takes it completes <see cref="Done"/> when that relay ends, which holds the link open until then.</summary>
internal sealed record Resumption(Conversation Talk, Resume Request)
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The guests whose home omd went away while their home node stayed up (its port refused or took a connection): each
/// waits here, stopped, for a new omd at home to take its relay over, by its home node and its PID there. The new
/// omd's link is authenticated as that node, so no other node can take a guest over.
/// </summary>
public sealed class GuestResumes
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(ushort Home, int HomePid), (int RemotePid, TaskCompletionSource<Resumption?> Arrived)> _waiting = [];

    /// <summary>Waits at most <paramref name="window"/> for home to take over the copy <paramref name="remotePid"/>
    /// of its process <paramref name="homePid"/>; null when it did not.</summary>
    internal async Task<Resumption?> WaitAsync(ushort home, int homePid, int remotePid, TimeSpan window, CancellationToken cancel)
    {
        var arrived = new TaskCompletionSource<Resumption?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _waiting[(home, homePid)] = (remotePid, arrived);
        try
        {
            return await arrived.Task.WaitAsync(window, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                _waiting.Remove((home, homePid));
                // Handed over in the same moment: the resumption is taken after all.
                return arrived.Task.IsCompletedSuccessfully ? arrived.Task.Result : null;
            }
        }
    }

    /// <summary>Hands a resume request to the guest waiting for it; false when none waits (it ended, or was given up).</summary>
    internal bool Hand(ushort home, Resumption resumption)
    {
        lock (_gate)
        {
            if (!_waiting.TryGetValue((home, resumption.Request.HomePid), out var waiting) || waiting.RemotePid != resumption.Request.RemotePid)
                return false;
            _waiting.Remove((home, resumption.Request.HomePid));
            return waiting.Arrived.TrySetResult(resumption);
        }
    }

    /// <summary>How many guests wait for their home's omd now.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate) return _waiting.Count;
        }
    }
}
