using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Engine;

// The public surface of the checkpoint engine (class CheckpointEngine : IDisposable, which owns the tracer thread):
//   CantMoveReport AnalyzeCantMove(int pid)
//   DumpResult Checkpoint(int pid, IImageSink sink, DumpOptions options)         throws CantMoveException first
//   RestoredProcess Restore(IImageSource source, RestoreOptions options)
//   ExitStatus WaitForExit(RestoredProcess process)

/// <summary>What happens to the original process once its image is complete.</summary>
public enum AfterDump
{
    /// <summary>Let it run on as if nothing happened.</summary>
    Resume,
    /// <summary>Kill it (SIGKILL) once the image is complete; on any failure before that it resumes instead.</summary>
    Kill,
    /// <summary>Keep it frozen under the engine's ptrace seize (migration: becomes the deputy).</summary>
    KeepFrozen,
}

public sealed record DumpOptions(AfterDump After = AfterDump.Resume, IProgress<ulong>? BytesWritten = null)
{
    /// <summary>The pre-copy this checkpoint completes: regions the target already holds carry only their changes.</summary>
    public Dump.PrecopySession? Precopy { get; init; }
}

public sealed record DumpResult(
    int Pid,
    int RegionCount,
    int FileCount,
    ulong PageBytes,
    TimeSpan AttachToStopped,
    TimeSpan Frozen,
    TimeSpan Total);

/// <summary>
/// How the restored process gets the descriptors that cannot be reopened by path (pipes, terminals):
/// image fd number → a descriptor of the restoring process that the new process inherits under that number.
/// Empty means: 0, 1, 2 of the restoring process for image fds 0, 1, 2.
/// </summary>
public sealed record RestoreOptions(
    IReadOnlyDictionary<int, int>? InheritedDescriptors = null,
    bool TryOriginalPid = true,
    IProgress<ulong>? BytesRestored = null)
{
    /// <summary>
    /// Chooses the inherited descriptors once the image's metadata is known (a migration target creates one relay
    /// pipe per descriptor the image needs); takes precedence over <see cref="InheritedDescriptors"/>.
    /// </summary>
    public Func<ProcessImage, IReadOnlyDictionary<int, int>>? DescriptorsFor { get; init; }

    /// <summary>Leave the rebuilt process stopped under the engine's seize until <c>Thaw</c> (or a kill): a migration
    /// target lets it run only once the home node has committed.</summary>
    public bool KeepFrozen { get; init; }
}

public sealed record RestoredProcess(int Pid, bool SamePidAsOriginal, int OriginalPid, TimeSpan Total);

/// <summary>How a process ended: an exit code, or the signal that killed it. ShellCode is what $? shows.</summary>
public readonly record struct ExitStatus(int Code, int Signal)
{
    public bool Signaled => Signal != 0;
    public int ShellCode => Signaled ? 128 + Signal : Code;
    public override string ToString() => Signaled ? $"killed by signal {Signal}" : $"exited with code {Code}";
}

/// <summary>Why a process cannot be moved; empty <see cref="Reasons"/> means it can.</summary>
public sealed record CantMoveReport(int Pid, IReadOnlyList<string> Reasons)
{
    public bool CanMove => Reasons.Count == 0;
}

/// <summary>The process was refused before anything was done to it; it keeps running untouched.</summary>
public sealed class CantMoveException(CantMoveReport report)
    : Exception($"process {report.Pid} cannot move: {string.Join("; ", report.Reasons)}")
{
    public CantMoveReport Report { get; } = report;
}
