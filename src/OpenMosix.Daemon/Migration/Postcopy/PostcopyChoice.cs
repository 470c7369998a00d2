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

/// <summary>What follows a pre-copy round (<see cref="PostcopyChoice.AfterRound"/>).</summary>
public enum NextStep
{
    /// <summary>Another round: what is left keeps shrinking.</summary>
    Round,
    /// <summary>Freeze and send the rest: it is small, or post-copy is not allowed.</summary>
    Freeze,
    /// <summary>Freeze, send the state, and let the copy fetch what the rounds could not catch up with.</summary>
    Postcopy,
}

/// <summary>
/// The switch between pre-copy and post-copy for one move out. Pre-copy converges when each round has less to send
/// than the last: when what the process writes while a round travels is under half of what the round sent. A
/// process that writes faster than that is not caught by more rounds: after the round that shows it (what is left not
/// shrinking, or the rounds used up) the rest goes by post-copy (<see cref="AfterRound"/>), so that a process quiet
/// but for a hot region sends its quiet memory in the rounds and only the hot region after the copy runs. One whose
/// whole memory is hot would only waste a round: a short <see cref="Probe"/> before any round, with the pre-copy's own
/// write tracking, sends it by post-copy at once (<see cref="PreferAtOnce"/>).
/// </summary>
public static class PostcopyChoice
{
    /// <summary>How long the write tracking watches before the first round, in auto mode.</summary>
    public static readonly TimeSpan Probe = TimeSpan.FromMilliseconds(100);

    /// <summary>The probe ends once the process slept through this long a window of it (<see cref="SleptThrough"/>).</summary>
    public static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Whether the probe may end with pre-copy after a window of <paramref name="watched"/> (at least
    /// <see cref="QuietWindow"/>) in which the process's threads together wanted a CPU (ran, or waited runnable: a busy
    /// process on a crowded node waits) under a tenth of the time, having written less than
    /// <see cref="PrecopyDriver.SmallEnough"/> since the probe began. A process that
    /// rewrites its whole memory all the time is CPU-bound, so one asleep nine tenths of the window is not one; should
    /// it turn hot later, the first round shows it and the rest goes by post-copy (<see cref="AfterRound"/>). Every
    /// idle process moved in auto mode no longer waits the whole probe (100 ms of a 64 MiB move's ~300).
    /// </summary>
    public static bool SleptThrough(TimeSpan watched, TimeSpan wantedCpu, long writtenBytes) =>
        watched >= QuietWindow && wantedCpu * 10 < watched && writtenBytes < PrecopyDriver.SmallEnough;

    public static PostcopyMode Parse(string text) => text switch
    {
        "auto" => PostcopyMode.Auto,
        "never" => PostcopyMode.Never,
        "always" => PostcopyMode.Always,
        _ => throw new ArgumentException($"migration.postcopy must be auto, never or always, not '{text}'"),
    };

    /// <summary>
    /// After pre-copy round <paramref name="round"/> of at most <paramref name="maxRounds"/>, which sent
    /// <paramref name="sent"/> bytes (the round before it <paramref name="previous"/>), with <paramref name="pending"/>
    /// bytes written since it began: another round while what is left shrinks by half each time; the freeze once it
    /// is under <see cref="PrecopyDriver.SmallEnough"/>; otherwise (not shrinking, or no rounds left) post-copy of the
    /// rest where <paramref name="postcopy"/> allows it, else the freeze.
    /// </summary>
    public static NextStep AfterRound(int round, int maxRounds, long sent, long previous, long pending, bool postcopy)
    {
        if (pending < PrecopyDriver.SmallEnough) return NextStep.Freeze;
        var shrinking = sent >= PrecopyDriver.SmallEnough && pending <= sent / 2 && (round == 1 || sent <= previous / 2);
        if (shrinking && round < maxRounds) return NextStep.Round;
        return postcopy ? NextStep.Postcopy : NextStep.Freeze;
    }

    /// <summary>Whether post-copy beats pre-copy for a process of <paramref name="residentBytes"/> that wrote
    /// <paramref name="writtenBytes"/> (distinct pages) in <paramref name="watched"/>, over a link of
    /// <paramref name="linkBytesPerSecond"/>: a round of R bytes takes R ÷ link rate, and the process writes at its
    /// rate meanwhile, which must stay under half the link's for each round to halve what is left.</summary>
    public static bool Prefer(long residentBytes, long writtenBytes, TimeSpan watched, double linkBytesPerSecond)
    {
        if (watched <= TimeSpan.Zero || linkBytesPerSecond <= 0 || residentBytes <= 0) return false;
        var dirtyRate = writtenBytes / watched.TotalSeconds;
        var roundSeconds = residentBytes / linkBytesPerSecond;
        // What it writes during one full round, at most all it has.
        var writtenPerRound = Math.Min(dirtyRate * roundSeconds, residentBytes);
        return writtenPerRound >= PrecopyDriver.SmallEnough && dirtyRate > linkBytesPerSecond / 2;
    }

    /// <summary>
    /// Post-copy before any round: the process writes too fast (<see cref="Prefer"/>) and not only in a hot region:
    /// it wrote half its memory or more within the probe, so that a first round would be sent again half or more.
    /// Anything less may be a hot region rewritten over and over (100 ms cannot tell one that stops growing from one
    /// that does not, on a loaded machine where the process may not run for half of them): pre-copy then sends the rest
    /// in rounds and the region after (<see cref="AfterRound"/>), and a process merely slower to cover its memory pays
    /// one round before the same post-copy.
    /// </summary>
    public static bool PreferAtOnce(long residentBytes, long writtenBytes, TimeSpan watched, double linkBytesPerSecond) =>
        Prefer(residentBytes, writtenBytes, watched, linkBytesPerSecond) && writtenBytes >= residentBytes / 2;
}
