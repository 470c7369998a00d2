namespace OpenMosix.Daemon.Migration;

/// <summary>A migration did not happen; the process runs on where it was. The message says why, in one line.</summary>
public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);
