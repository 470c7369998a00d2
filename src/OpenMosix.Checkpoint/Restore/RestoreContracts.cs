namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// How the restored process gets the descriptors that cannot be reopened by path (pipes, terminals):
/// image fd number → a descriptor of the restoring process that the new process inherits under that number.
/// Empty means: 0, 1, 2 of the restoring process for image fds 0, 1, 2.
/// </summary>
public sealed record RestoreOptions(
    IReadOnlyDictionary<int, int>? InheritedDescriptors = null,
    bool TryOriginalPid = true,
    IProgress<ulong>? BytesRestored = null)
{
    /// <summary>
    /// Chooses the inherited descriptors once the image's metadata is known (a migration target creates one relay
    /// pipe per descriptor the image needs); takes precedence over <see cref="InheritedDescriptors"/>.
    /// </summary>
    public Func<ProcessImage, IReadOnlyDictionary<int, int>>? DescriptorsFor { get; init; }

    /// <summary>
    /// Why the restoring side refuses an image, or null to go on: asked once its metadata is read and checked, before
    /// anything is built of it (a migration target checks the image's owner against the offer and its guest policy).
    /// A refusal is an <see cref="ImageRefusedException"/>.
    /// </summary>
    public Func<ProcessImage, string?>? Refusal { get; init; }

    /// <summary>Leave the rebuilt process stopped under the engine's seize until <c>Thaw</c> (or a kill): a migration
    /// target lets it run only once the home node has committed.</summary>
    public bool KeepFrozen { get; init; }

    /// <summary>
    /// A tree (RestoreTree) is rebuilt in a PID namespace of its own, where every member and thread keeps its old id
    /// whatever this node's namespace holds (a migration target that shares one with the tree's home, where the
    /// deputies hold them). Its root is still the restorer's child; the namespace's init reaps its orphans.
    /// </summary>
    public bool OwnPidNamespace { get; init; }

    /// <summary>
    /// How long a thread may wait for its old id while a thread of the process the image was taken from still holds
    /// it (a migration between nodes that share one PID namespace: the original gives its ids back as it becomes a
    /// deputy). Zero: a taken id is given up at once, and the thread gets a new one.
    /// </summary>
    public TimeSpan WaitForOriginalThreadIds { get; init; }

    /// <summary>
    /// The same wait for a thread taken while locking a robust mutex (<see cref="RobustLockers"/>): under a new id it
    /// would take the mutex in its old id's name and fail to unlock it, so it waits longer than the others, as long as
    /// the original takes to give its ids back on a loaded node. Shorter than
    /// <see cref="WaitForOriginalThreadIds"/> (zero, the default) means as long.
    /// </summary>
    public TimeSpan WaitForOriginalLockerIds { get; init; }

    /// <summary>
    /// A migration target: descriptors the image records as forwarded get a placeholder (a unix socket) under their
    /// number, and the process a seccomp filter that hands its calls on them to the restorer
    /// (<see cref="RestoredProcess.ForwardListener"/>). Without it such an image is refused.
    /// </summary>
    public bool ForwardDescriptors { get; init; }

    /// <summary>
    /// Post-copy: the process's private anonymous memory is left missing and filled on fault (and in the background)
    /// from this source, by <see cref="RestoredProcess.Postcopy"/>; the image's pages for that memory are passed over.
    /// Null: every page is written before the process runs.
    /// </summary>
    public Postcopy.IPageSource? LazyPages { get; init; }

    /// <summary>With <see cref="LazyPages"/>: the image left private anonymous memory out
    /// (<see cref="Dump.DumpOptions.LeaveLazyMemory"/>), so every page of it is missing, whatever the image holds: the
    /// source says which were never touched (zero pages).</summary>
    public bool LazyWholeRegions { get; init; }

    /// <summary>With <see cref="LazyPages"/>: push the pages no fault asked for in the background (off in tests that
    /// need every page to come by fault).</summary>
    public bool PushLazyPages { get; init; } = true;

    /// <summary>
    /// A migration target: the terminal the process is given (relayed to home's) becomes its controlling terminal, in
    /// a session of its own that it leads, so tcgetpgrp, tcsetpgrp, /dev/tty and job control work on it.
    /// </summary>
    public bool ControllingTerminal { get; init; }

    /// <summary>With <see cref="ForwardDescriptors"/>: its home has home paths, so the filter also hands over every call
    /// that names a path (open, stat, access, readlink), for the restorer to send those of home's files home.</summary>
    public bool ForwardPaths { get; init; }

    /// <summary>With <see cref="ForwardDescriptors"/>: its home makes the sockets it creates away (of the internet
    /// families), so the filter also hands over socket of those families (docs/forwarding.md).</summary>
    public bool ForwardSockets { get; init; }
}

public sealed record RestoredProcess(int Pid, bool SamePidAsOriginal, int OriginalPid, TimeSpan Total)
{
    /// <summary>The descriptor numbers whose calls are carried out at home (empty: none).</summary>
    public IReadOnlyList<int> Forwarded { get; init; } = [];

    /// <summary>The seccomp listener of the process's forwarding filter (owned by the caller), when it has forwarded descriptors.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? ForwardListener { get; init; }

    /// <summary>The numbers [<see cref="ReservedFrom"/>, <see cref="ReservedTop"/>) the filter also hands over: for
    /// descriptors forwarded after the move (accepted connections).</summary>
    public int ReservedFrom { get; init; }

    public int ReservedTop { get; init; }

    /// <summary>The process group the process was in where its image was taken (its home's number; 0 if unknown).</summary>
    public int HomeGroup { get; init; }

    /// <summary>The restorer's ends of each forwarded number's placeholder (a unix socket pair), by number.</summary>
    public IReadOnlyDictionary<int, ForwardMirrorEnds> ForwardMirrors { get; init; } = new Dictionary<int, ForwardMirrorEnds>();

    /// <summary>With <see cref="RestoreOptions.LazyPages"/>: what serves the missing pages (owned by the caller; null when
    /// no page was left missing).</summary>
    public Postcopy.PostcopyServer? Postcopy { get; init; }
}

/// <summary>A forwarded number's placeholder in the process (<paramref name="Placeholder"/>, the restorer's descriptor
/// of that same socket) and the other end of its pair (<paramref name="Peer"/>): whoever serves the descriptor shows
/// home's readiness on it, so the process's own poll, select and epoll see it.</summary>
public sealed record ForwardMirrorEnds(Microsoft.Win32.SafeHandles.SafeFileHandle Placeholder, Microsoft.Win32.SafeHandles.SafeFileHandle Peer);
