using OpenMosix.Checkpoint.Image;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// Home's side of the checkpoints of one process running away: each arriving checkpoint is read into files while its
/// output goes on being delivered, merged into the stored one on a task of its own, and answered (the next one starts
/// only then). A merged checkpoint becomes the one a restart uses once home has delivered all the output it counted:
/// bytes that sat in the copy's pipe at the freeze come after it, and a restart must not need them again.
/// </summary>
internal sealed class CheckpointKeeper(CheckpointStore store, int pid, Conversation talk, ILogger logger)
{
    /// <summary>How long a merge waits at most for home to be less busy: the copy's node waits for the answer up to
    /// 30 s, and would then take the next checkpoint whole.</summary>
    public static readonly TimeSpan MostMergeWait = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>Why home should put off a merge now (<see cref="CheckpointDeferral.HomeBusy"/>), or null.</summary>
    public Func<string?> Busy { get; init; } = () => null;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, long> _delivered = [];
    private CheckpointRecord? _awaiting, _committed;
    private (long Sequence, bool Whole, string? Failure)? _arriving;
    private Task _merging = Task.CompletedTask;
    // Cancelled when the process no longer needs its checkpoints: a merge waiting for home is then dropped.
    private readonly TaskCompletionSource _forgotten = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Bytes of output <paramref name="fd"/> delivered at home this stay.</summary>
    public long DeliveredOf(int fd)
    {
        lock (_gate) return _delivered.GetValueOrDefault(fd);
    }

    /// <summary>What an earlier omd delivered of output <paramref name="fd"/> this stay, before this one took the relay over.</summary>
    public void DeliveredBefore(int fd, long bytes)
    {
        lock (_gate) _delivered[fd] = _delivered.GetValueOrDefault(fd) + bytes;
    }

    public void Delivered(int fd, int bytes)
    {
        lock (_gate) _delivered[fd] = _delivered.GetValueOrDefault(fd) + bytes;
        TryCommit();
    }

    /// <summary>How much input home may forget as read: never what a restart from the committed checkpoint reads again.</summary>
    public long ForgettableInput(long read)
    {
        lock (_gate) return Math.Min(read, _committed?.InputRead ?? 0);
    }

    /// <summary>
    /// The images of a checkpoint (after its checkpoint message), into files on a blocking thread. Output between its
    /// frames goes to <paramref name="stdio"/> at once; the control frames are returned, to be handled after it.
    /// </summary>
    public async Task<List<Frame>> ReceiveAsync(CheckpointFollows follows, Action<Frame> stdio)
    {
        ArgumentNullException.ThrowIfNull(follows);
        await _merging.ConfigureAwait(false);
        var deferred = new List<Frame>();
        var failure = await Blocking.Run(() =>
        {
            var why = follows.Whole ? Receive("round", stdio, deferred) : null;
            return Receive("final", stdio, deferred) ?? why;
        }).ConfigureAwait(false);
        _arriving = (follows.Sequence, follows.Whole, failure);
        // An empty final image: the copy's node could not take it, and no counts follow.
        if (failure is not null) await AnswerAsync(follows.Sequence, failure).ConfigureAwait(false);
        return deferred;
    }

    /// <summary>One image into its file; why it cannot be used, or null. The link is read to the image's end either way.</summary>
    private string? Receive(string part, Action<Frame> stdio, List<Frame> deferred)
    {
        var wire = new LinkImageReadStream(talk.Link, stdio, deferred.Add);
        try
        {
            using var file = store.CreateIncoming(pid, part);
            var behind = new CacheBehindStream(file);
            wire.CopyTo(behind);
            behind.DropBehind();
            return file.Length == 0 ? "its node could not take it" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            wire.CopyTo(Stream.Null);
            return $"it could not be written here: {e.Message}";
        }
    }

    /// <summary>The counts of the checkpoint just received: merged, then answered.</summary>
    public void Counted(CheckpointCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (_arriving is not { Failure: null } arriving || arriving.Sequence != counts.Sequence) return;
        _arriving = null;
        var record = new CheckpointRecord(pid, counts.Sequence, counts.Outputs, counts.InputRead);
        // A newer checkpoint replaces one still waiting for its output: that one is never committed.
        lock (_gate) _awaiting = null;
        _merging = Task.Run(async () =>
        {
            string? refused = null;
            try
            {
                await WhileBusyAsync(record.Sequence).ConfigureAwait(false);
                store.Merge(record, arriving.Whole);
                lock (_gate) _awaiting = record;
                TryCommit();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CorruptCheckpointException or CorruptImageException)
            {
                refused = e.Message;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await AnswerAsync(record.Sequence, refused).ConfigureAwait(false);
        });
    }

    /// <summary>Waits, bounded, while home is busy moving processes out or short of memory.</summary>
    private async Task WhileBusyAsync(long sequence)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        string? why = null;
        while (waited.Elapsed < MostMergeWait && Busy() is { } busy)
        {
            why ??= busy;
            await Task.WhenAny(Task.Delay(BusyPoll), _forgotten.Task).ConfigureAwait(false);
            if (_forgotten.Task.IsCompleted) throw new OperationCanceledException();
        }
        if (why is not null) CheckpointLog.MergeWaited(logger, pid, sequence, waited.Elapsed.TotalSeconds, why);
    }

    private void TryCommit()
    {
        lock (_gate)
        {
            if (_awaiting is not { } record || record.Outputs.Any(o => _delivered.GetValueOrDefault(o.Fd) < o.Bytes)) return;
            _awaiting = null;
            try
            {
                store.Commit(pid);
                _committed = record;
            }
            catch (IOException e)
            {
                CheckpointLog.Refused(logger, pid, record.Sequence, e.Message);
            }
        }
    }

    private async Task AnswerAsync(long sequence, string? refused)
    {
        if (refused is null) CheckpointLog.Stored(logger, pid, sequence);
        else CheckpointLog.Refused(logger, pid, sequence, refused);
        try
        {
            await talk.SendAsync(new CheckpointStored(sequence, refused)).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // The link is gone: the relay finds out.
        }
    }

    /// <summary>The process no longer needs them (it ended, came home or was restarted): its files go.</summary>
    public async Task ForgetAsync()
    {
        _forgotten.TrySetResult();
        await _merging.ConfigureAwait(false);
        try
        {
            store.Forget(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CheckpointLog.NotForgotten(logger, pid, e.Message);
        }
    }
}
