namespace OpenMosix.Checkpoint.CantMove;

/// <summary>Why a process cannot be moved; empty <see cref="Reasons"/> means it can.</summary>
public sealed record CantMoveReport(int Pid, IReadOnlyList<string> Reasons)
{
    public bool CanMove => Reasons.Count == 0;

    /// <summary>Descriptors that do not travel but are served from home once the process has moved, each described
    /// ("fd 7 is a pipe (pipe:[123]): forwarded through home"); only when forwarding was asked for.</summary>
    public IReadOnlyList<string> Forwarded { get; init; } = [];
}

/// <summary>The process was refused before anything was done to it; it keeps running untouched.</summary>
public sealed class CantMoveException(CantMoveReport report)
    : Exception($"process {report.Pid} cannot move: {string.Join("; ", report.Reasons)}")
{
    public CantMoveReport Report { get; } = report;
}
