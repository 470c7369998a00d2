namespace OpenMosix.Daemon.Migration;

/// <summary>A migration did not happen; the process runs on where it was. The message says why, in one line.</summary>
public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>It was not tried: the process cannot move, or the target would not take it (a refused migration in
    /// openmosix_migrations_total, rather than a failed one).</summary>
    public bool Refused { get; init; }
}
