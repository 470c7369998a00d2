namespace OpenMosix.Admin;

/// <summary>
/// How far a move has got, as omd streams it to a client that asked (<see cref="MigrateRequest.Progress"/>). Phase:
/// <see cref="Precopy"/> (memory copied while the process runs; Round counts from 1), <see cref="Frozen"/> (the
/// process stopped, the rest of its image on its way), <see cref="Restoring"/> (the target rebuilds it) or
/// <see cref="Home"/> (it comes home first, on its way from one remote node to another). Bytes: sent so far in this
/// move, all phases together; ElapsedMs: since the move began.
/// </summary>
public sealed record MigrationProgress(string Phase, int Round, long Bytes, long ElapsedMs)
{
    public const string Precopy = "precopy";
    public const string Frozen = "frozen";
    public const string Restoring = "restoring";
    public const string Home = "home";

    /// <summary>The mean rate of the move so far.</summary>
    public double BytesPerSecond => ElapsedMs > 0 ? Bytes * 1000.0 / ElapsedMs : 0;
}

/// <summary>
/// One line of a move's progress stream: any number of Progress lines, then exactly one line with the Result, or with
/// the Error and the HTTP Status the single answer would have carried.
/// </summary>
public sealed record MigrationEvent(MigrationProgress? Progress = null, MigrationResult? Result = null, string? Error = null, int Status = 0);
