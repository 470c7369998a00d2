namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>migration.postcopy: whether a move out may start the copy before its memory is there.</summary>
public enum PostcopyMode
{
    /// <summary>Post-copy when pre-copy would not converge (<see cref="PostcopyChoice.Prefer"/>).</summary>
    Auto,
    /// <summary>Never: pre-copy rounds (if on) and the rest frozen, as before post-copy.</summary>
    Never,
    /// <summary>Every move out: no pre-copy rounds, the copy runs at once and fetches its memory.</summary>
    Always,
}

/// <summary>
/// The switch between pre-copy and post-copy for one move out. Pre-copy converges when each round has less to send
/// than the last: when what the process writes while a round travels is under half of what the round sent
/// (<see cref="PrecopyDriver.ShouldStop"/> stops it the other way). A round of R bytes takes R ÷ link rate; the process
/// writes at its dirty rate meanwhile. So post-copy is preferred when the dirty rate, measured over a short
/// <see cref="Probe"/> with the pre-copy's own write tracking, is above half the link rate, unless a whole round's
/// writes would fit in <see cref="PrecopyDriver.SmallEnough"/> anyway.
/// </summary>
public static class PostcopyChoice
{
    /// <summary>How long the write tracking watches before the first round, in auto mode.</summary>
    public static readonly TimeSpan Probe = TimeSpan.FromMilliseconds(100);

    public static PostcopyMode Parse(string text) => text switch
    {
        "auto" => PostcopyMode.Auto,
        "never" => PostcopyMode.Never,
        "always" => PostcopyMode.Always,
        _ => throw new ArgumentException($"migration.postcopy must be auto, never or always, not '{text}'"),
    };

    /// <summary>Whether post-copy beats pre-copy for a process of <paramref name="residentBytes"/> that wrote
    /// <paramref name="writtenBytes"/> (distinct pages) in <paramref name="watched"/>, over a link of
    /// <paramref name="linkBytesPerSecond"/>.</summary>
    public static bool Prefer(long residentBytes, long writtenBytes, TimeSpan watched, double linkBytesPerSecond)
    {
        if (watched <= TimeSpan.Zero || linkBytesPerSecond <= 0 || residentBytes <= 0) return false;
        var dirtyRate = writtenBytes / watched.TotalSeconds;
        var roundSeconds = residentBytes / linkBytesPerSecond;
        // What it writes during one full round, at most all it has.
        var writtenPerRound = Math.Min(dirtyRate * roundSeconds, residentBytes);
        return writtenPerRound >= PrecopyDriver.SmallEnough && dirtyRate > linkBytesPerSecond / 2;
    }
}
