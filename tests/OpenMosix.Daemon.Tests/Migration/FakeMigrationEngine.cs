using System.Collections.Concurrent;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// The engine calls of both ends, without ptrace: images are a few bytes, the "restored" copy is a real child the
/// test started, and every call is recorded ("thaw 123") for the test to check what was done to the process.
/// </summary>
internal sealed class FakeMigrationEngine : IMigrationEngine, IDeputyHost
{
    public ConcurrentQueue<string> Calls { get; } = new();
    /// <summary>The process a restore "rebuilds": its exit is the copy's.</summary>
    public ChildProcess? Copy { get; set; }
    public string? RestoreFails { get; set; }
    /// <summary>The metadata the final image "carries", shown to the target's refusal check as a real restore does.</summary>
    public ProcessImage? ImageMetadata { get; set; }
    /// <summary>Checkpoints fail after writing part of the image (and leave the process running, as the dumper does).</summary>
    public string? CheckpointFails { get; set; }

    public event Action<int, int>? SignalArrived;
    public event Action<int>? DeputyDied;

    public CantMoveReport AnalyzeCantMove(int pid) => new(pid, []);

    public IPrecopyRounds? StartPrecopy(int pid) => null;

    /// <summary>The next checkpoint finds that the process executed a new program meanwhile.</summary>
    public bool ReplacedOnce { get; set; }

    public void CheckpointFrozen(int pid, Stream image, IPrecopyRounds? precopy = null)
    {
        if (ReplacedOnce)
        {
            ReplacedOnce = false;
            Calls.Enqueue($"replaced {pid}");
            throw new Checkpoint.Dump.ProcessReplacedException(pid, new IOException("pagemap: the address space is gone"));
        }
        if (CheckpointFails is { } why)
        {
            Calls.Enqueue($"checkpoint-failed {pid}");
            image.Write("partial"u8);
            throw new InvalidOperationException(why);
        }
        Calls.Enqueue($"checkpoint {pid}");
        image.Write("image"u8);
    }

    public void Thaw(int pid) => Calls.Enqueue($"thaw {pid}");

    public IIncomingProcess Receive(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal) => new Incoming(this, refusal);

    public void KillFrozen(int pid) => Calls.Enqueue($"kill-frozen {pid}");

    public Task<ExitStatus> WhenExited(int pid) => Task.Run(() =>
    {
        var exit = Copy!.WaitForExit(TimeSpan.FromSeconds(60));
        return new ExitStatus(exit.Code, exit.Signal);
    });

    public void MakeDeputy(int pid) => Calls.Enqueue($"make-deputy {pid}");

    public void EndDeputy(int pid, ExitStatus status) => Calls.Enqueue($"end-deputy {pid} {status}");

    /// <summary>Rebuilding a process into its deputy fails (it stays where it runs).</summary>
    public string? RestoreIntoFails { get; set; }

    public RestoredProcess RestoreInto(int pid, Stream image)
    {
        image.CopyTo(Stream.Null);
        if (RestoreIntoFails is { } why) throw new InvalidOperationException(why);
        Calls.Enqueue($"restore-into {pid}");
        return new RestoredProcess(pid, true, pid, TimeSpan.Zero);
    }

    public void LetRun(int pid) => Calls.Enqueue($"let-run {pid}");

    public void RaiseSignal(int pid, int signal) => SignalArrived?.Invoke(pid, signal);

    public void RaiseDied(int pid) => DeputyDied?.Invoke(pid);

    private sealed class Incoming(FakeMigrationEngine engine, Func<ProcessImage, string?> refusal) : IIncomingProcess
    {
        public void TakeRound(Stream round) => round.CopyTo(Stream.Null);

        public RestoredProcess Finish(Stream image)
        {
            image.CopyTo(Stream.Null);
            if (engine.ImageMetadata is { } metadata && refusal(metadata) is { } refused) throw new ImageRefusedException(refused);
            if (engine.RestoreFails is { } why) throw new InvalidOperationException(why);
            engine.Calls.Enqueue("restore");
            return new RestoredProcess(engine.Copy!.Pid, false, 42, TimeSpan.Zero);
        }

        public void Abandon() => engine.Calls.Enqueue("abandon");
    }
}
