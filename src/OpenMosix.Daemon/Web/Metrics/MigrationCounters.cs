namespace OpenMosix.Daemon.Web.Metrics;

/// <summary>Which way a migration went, seen from this node.</summary>
public enum MigrationDirection
{
    /// <summary>A process of this node to another node.</summary>
    Out,
    /// <summary>A process of this node back home from where it ran.</summary>
    Home,
    /// <summary>Another node's process arriving here as a guest.</summary>
    In,
}

public enum MigrationOutcome
{
    /// <summary>The process runs where it was sent.</summary>
    Moved,
    /// <summary>It was tried and did not happen (link, checkpoint, restore); the process runs on where it was.</summary>
    Failed,
    /// <summary>It was not tried: the process cannot move, or the target would not take it.</summary>
    Refused,
}

/// <summary>
/// openmosix_migrations_total and openmosix_migration_freeze_seconds: counted by the migration code where each move
/// ends, with one atomic increment (no lock, nothing allocated), and read by the /metrics scrape.
/// </summary>
public sealed class MigrationCounters
{
    private const int Outcomes = 3;
    private readonly long[] _counts = new long[3 * Outcomes];

    /// <summary>How long each move this node made as home kept its process frozen (out, and home again).</summary>
    public FreezeHistogram Freeze { get; } = new();

    public void Count(MigrationDirection direction, MigrationOutcome outcome) =>
        Interlocked.Increment(ref _counts[(int)direction * Outcomes + (int)outcome]);

    /// <summary>A move that happened, with the time its process was frozen.</summary>
    public void Moved(MigrationDirection direction, TimeSpan frozen)
    {
        Count(direction, MigrationOutcome.Moved);
        Freeze.Observe(frozen);
    }

    public long this[MigrationDirection direction, MigrationOutcome outcome] =>
        Interlocked.Read(ref _counts[(int)direction * Outcomes + (int)outcome]);

    public static string Label(MigrationDirection direction) => direction switch
    {
        MigrationDirection.Out => "out",
        MigrationDirection.Home => "home",
        _ => "in",
    };

    public static string Label(MigrationOutcome outcome) => outcome switch
    {
        MigrationOutcome.Moved => "moved",
        MigrationOutcome.Failed => "failed",
        _ => "refused",
    };
}
