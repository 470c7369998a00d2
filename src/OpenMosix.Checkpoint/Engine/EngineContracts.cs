namespace OpenMosix.Checkpoint.Engine;

// The public surface of the checkpoint engine (class CheckpointEngine : IDisposable, which owns the tracer thread):
//   CantMoveReport AnalyzeCantMove(int pid)
//   DumpResult Checkpoint(int pid, IImageSink sink, DumpOptions options)         throws CantMoveException first
//   RestoredProcess Restore(IImageSource source, RestoreOptions options)
//   ExitStatus WaitForExit(RestoredProcess process)
// Each part owns the contracts of its own work (Dump: DumpOptions/DumpResult, Restore: RestoreOptions/
// RestoredProcess, CantMove: CantMoveReport/CantMoveException); Engine depends on them, never the reverse.

/// <summary>How a process ended: an exit code, or the signal that killed it. ShellCode is what $? shows.</summary>
public readonly record struct ExitStatus(int Code, int Signal)
{
    public bool Signaled => Signal != 0;
    public int ShellCode => Signaled ? 128 + Signal : Code;
    /// <summary>The end a waitpid reported (an exit or a killing signal, not a stop).</summary>
    public static ExitStatus Of(OpenMosix.Linux.WaitStatus status) => status.Exited ? new ExitStatus(status.ExitCode, 0) : new ExitStatus(0, status.TermSignal);
    public override string ToString() => Signaled ? $"killed by signal {Signal}" : $"exited with code {Code}";
}
