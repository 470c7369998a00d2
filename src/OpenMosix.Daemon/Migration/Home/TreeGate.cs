namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Holds the moves of a process tree's members (`om migrate --tree`) together at two points, so that the tree moves
/// all or nothing: no member is frozen before every member's pre-copy is done (<see cref="FreezeAsync"/>: the frozen
/// time is one final image each, not the slowest member's whole move), and no member is committed before every copy
/// is restored on the target and <see cref="AllFrozenCheck"/> finds nothing amiss (<see cref="CommitAsync"/>). Until
/// then any member's failure (<see cref="Fail"/>) fails the others at the point where they wait, and each one's move
/// lets it run on here as a single failed move does. Waits are bounded (<see cref="Limit"/>): the targets wait for
/// home's next word for at most 30 s.
/// </summary>
internal sealed class TreeGate
{
    private readonly int _members;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _commit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _atFreeze;
    private int _atCommit;
    private string? _failure;

    public TreeGate(int members, TimeSpan limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        _members = members;
        Limit = limit;
    }

    /// <summary>The longest a member waits at either point for the others.</summary>
    public TimeSpan Limit { get; }

    /// <summary>Run once every member is frozen and restored on the target, before any is committed: why the tree must
    /// not move after all (a member forked a child that is not in the tree), or null.</summary>
    public Func<string?>? AllFrozenCheck { get; init; }

    /// <summary>Why the tree does not move, once a member failed; null while none has.</summary>
    public string? Failure
    {
        get
        {
            lock (_lock) return _failure;
        }
    }

    /// <summary>A member's move failed before its commit: every member still waiting, or arriving later, fails too.</summary>
    public void Fail(string reason)
    {
        lock (_lock)
        {
            _failure ??= reason;
        }
        var error = new MigrationException(reason) { Refused = true };
        _frozen.TrySetException(error);
        _commit.TrySetException(error);
    }

    /// <summary>A member's pre-copy is done: waits until every member's is, and throws if the tree does not move.</summary>
    public Task FreezeAsync() => WaitAsync(Interlocked.Increment(ref _atFreeze) == _members, _frozen, null, "pre-copy");

    /// <summary>A member's copy is restored, frozen, on the target: waits until every member's is, and throws if the
    /// tree does not move; once this returns the member is committed.</summary>
    public Task CommitAsync() => WaitAsync(Interlocked.Increment(ref _atCommit) == _members, _commit, AllFrozenCheck, "restore");

    private async Task WaitAsync(bool last, TaskCompletionSource all, Func<string?>? check, string step)
    {
        if (last)
        {
            if (check?.Invoke() is { } problem) Fail(problem);
            else all.TrySetResult();
        }
        try
        {
            await all.Task.WaitAsync(Limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Fail($"not every process of the tree finished its {step} within {Limit.TotalSeconds:F0} s");
            await all.Task.ConfigureAwait(false);
        }
    }
}
