namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>
/// Home → target, in place of <see cref="Final"/>: the final image follows (the process frozen at home) without the
/// pages of its private anonymous memory; the copy runs without them and its node asks home for them in Pages frames
/// (post-copy, docs/migration.md). Home keeps the process frozen, whole, until the target says it holds every page
/// (<see cref="PagesHeld"/>); if the link ends before, the copy is killed there and the original runs on at home.
/// </summary>
public sealed record PostcopyFinal : MigrationMessage;

/// <summary>
/// Target → home, once the post-copied copy holds every page of its memory (or no longer needs them): home may now
/// empty the original into its deputy. <see cref="Bytes"/>: the pages fetched, <see cref="Faults"/> of them asked for
/// by a fault (the rest pushed in the background), <see cref="Milliseconds"/> from the copy's start to the last page.
/// </summary>
public sealed record PagesHeld(long Bytes, long Faults, long Milliseconds) : MigrationMessage
{
    public override string? Problem() => Check(Bytes >= 0 && Faults >= 0 && Milliseconds >= 0, "page counts out of range");
}
