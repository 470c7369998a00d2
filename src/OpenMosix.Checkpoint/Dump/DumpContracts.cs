namespace OpenMosix.Checkpoint.Dump;

/// <summary>What happens to the original process once its image is complete.</summary>
public enum AfterDump
{
    /// <summary>Let it run on as if nothing happened.</summary>
    Resume,
    /// <summary>Kill it (SIGKILL) once the image is complete; on any failure before that it resumes instead.</summary>
    Kill,
    /// <summary>Keep it frozen under the engine's ptrace seize (migration: becomes the deputy).</summary>
    KeepFrozen,
}

public sealed record DumpOptions(AfterDump After = AfterDump.Resume, IProgress<ulong>? BytesWritten = null)
{
    /// <summary>The pre-copy this checkpoint completes: regions the target already holds carry only their changes.</summary>
    public PrecopySession? Precopy { get; init; }

    /// <summary>A migration: descriptors that cannot be recreated elsewhere are recorded as forwarded, to be served from
    /// home, instead of refused.</summary>
    public bool ForwardDescriptors { get; init; }

    /// <summary>With <see cref="ForwardDescriptors"/>: files below these directories are forwarded too.</summary>
    public CantMove.HomePaths? HomePaths { get; init; }

    /// <summary>Descriptors forwarded already: a moved copy's placeholders, recorded as forwarded again.</summary>
    public IReadOnlySet<int>? Forwarded { get; init; }

    /// <summary>A process tree's checkpoint: the process's children are checkpointed with it, not a reason to refuse.</summary>
    public bool WithChildren { get; init; }

    /// <summary>Post-copy: the pages of private anonymous memory (<see cref="Postcopy.LazyMemory"/>) are left out of the
    /// image, to be served from the frozen process on fault. With <see cref="Precopy"/>, regions the target holds from
    /// the rounds leave out only what changed since the last round, listed in the image's
    /// <see cref="Image.PrecopyDelta.Missing"/>.</summary>
    public bool LeaveLazyMemory { get; init; }

    /// <summary>Which interrupted calls were carried out already (a moved copy's forwarded calls): recorded as returned.</summary>
    public ICarriedOutCalls? CarriedOut { get; init; }

    /// <summary>For tests: called with the process's PID once it is frozen, before anything of it is read (a test holds
    /// the freeze open in it, to send the process a signal while it is frozen).</summary>
    public Action<int>? WhileFrozen { get; init; }
}

public sealed record DumpResult(
    int Pid,
    int RegionCount,
    int FileCount,
    ulong PageBytes,
    TimeSpan AttachToStopped,
    TimeSpan Frozen,
    TimeSpan Total)
{
    /// <summary>Threads the freeze found only on a later pass over the task list: created while the others were being
    /// stopped, and stopped and saved with them.</summary>
    public IReadOnlyList<int> ThreadsBornWhileFreezing { get; init; } = [];

    /// <summary>Kept frozen, it was sent SIGSTOP meanwhile: the engine sends it again when it lets the process go.</summary>
    public bool StopHeld { get; init; }

    /// <summary>The signal of the group-stop (^Z, SIGSTOP) the process was in when it was frozen, or 0; kept frozen,
    /// SIGSTOP when one was sent meanwhile (its image records the stop).</summary>
    public int StoppedBy { get; init; }

    /// <summary>The numbers of the signals its image holds as queued (the process's and each thread's): they go with
    /// the image, and whatever reaches the frozen process later does not.</summary>
    public IReadOnlyList<int> PendingInImage { get; init; } = [];
}
