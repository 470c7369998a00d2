namespace OpenMosix.Daemon.Migration;

/// <summary>
/// A move of a home process that ended, well or not: to another node, or home again. <see cref="Result"/> is set when
/// it moved, <see cref="Error"/> when it did not (the process runs on where it was). The dashboard's migration history
/// keeps these; <see cref="HomeMigration.MoveEnded"/> reports each one.
/// </summary>
public sealed record MoveEnded(DateTimeOffset At, int Pid, string Command, int From, int To, MigrationResult? Result, string? Error);
