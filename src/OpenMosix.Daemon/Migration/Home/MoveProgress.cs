using System.Diagnostics;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Tells whoever asked (`om migrate` on a terminal, through the admin API) how far one move has got: the phase, the
/// pre-copy round, the bytes sent in every phase so far. Reported from one thread at a time (the move's own steps
/// and the thread that writes the image into the link), so it needs no lock; reporting never waits.
/// </summary>
internal sealed class MoveProgress(IProgress<MigrationProgress>? sink)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _phase = MigrationProgress.Precopy;
    private int _round;
    private long _finished;

    /// <summary>A new phase begins (a round of pre-copy, the freeze, the restore on the target).</summary>
    public void Enter(string phase, int round = 0)
    {
        (_phase, _round) = (phase, round);
        Sent(0);
    }

    /// <summary><paramref name="bytes"/> of the phase's image have gone so far.</summary>
    public void Sent(long bytes) =>
        sink?.Report(new MigrationProgress(_phase, _round, _finished + bytes, (long)_clock.Elapsed.TotalMilliseconds));

    /// <summary>The phase's image is complete, <paramref name="bytes"/> in all.</summary>
    public void Done(long bytes) => _finished += bytes;

    /// <summary>What the link writer calls after each frame, or null when nobody listens.</summary>
    public Action<long>? PerFrame => sink is null ? null : Sent;
}
