using System.Collections.Concurrent;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Linux;
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

    public event Action<int, ArrivedSignal>? SignalArrived;
    public event Action<int>? DeputyDied;

    /// <summary>Why the process cannot move (none: it can).</summary>
    public IReadOnlyList<string> CantMove { get; set; } = [];
    /// <summary>The cantmove analysis fails this way: a /proc read or a syscall racing the process's own changes, a bug.</summary>
    public Func<int, Exception>? AnalyzeFails { get; set; }

    public CantMoveReport AnalyzeCantMove(int pid) => AnalyzeFails is { } fail ? throw fail(pid) : new(pid, CantMove);

    /// <summary>Whether this "kernel" tracks writes: then a pre-copy copies a few bytes a round, and nothing is left after one.</summary>
    public bool TracksWrites { get; set; }

    public IPrecopyRounds? StartPrecopy(int pid)
    {
        if (StartPrecopyFails > 0)
        {
            StartPrecopyFails--;
            Calls.Enqueue($"precopy-refused {pid}");
            throw new InvalidOperationException("the process is stopped by another tracer");
        }
        return TracksWrites ? new FakeRounds(this, pid) : null;
    }

    /// <summary>How many pre-copies (a checkpoint's or a trip's) are refused before they start, as a process that cannot be seized for the moment refuses them.</summary>
    public int StartPrecopyFails { get; set; }

    /// <summary>The next checkpoint finds that the process executed a new program meanwhile.</summary>
    public bool ReplacedOnce { get; set; }

    public void CheckpointFrozen(int pid, Stream image, IPrecopyRounds? precopy = null, ICarriedOutCalls? carriedOut = null)
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

    public Task<ExitStatus> AdoptGuest(int pid) => WhenExited(pid);

    /// <summary>Done as the deputy is made, after it: a signal raised here comes in the moment between the deputy's
    /// making and its relay's start, as the deputy's tracer may report one.</summary>
    public Action<int>? WhenDeputyMade { get; set; }

    public void MakeDeputy(int pid)
    {
        Calls.Enqueue($"make-deputy {pid}");
        WhenDeputyMade?.Invoke(pid);
    }

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

    /// <summary>A pre-copy round of a trip home fails (home answers "stay" to it).</summary>
    public string? TakeRoundFails { get; set; }

    public void TakeRound(int pid, Stream round)
    {
        round.CopyTo(Stream.Null);
        if (TakeRoundFails is { } why) throw new InvalidOperationException(why);
        Calls.Enqueue($"take-round {pid}");
    }

    public void AbandonRounds(int pid) => Calls.Enqueue($"abandon-rounds {pid}");

    /// <summary>The read end of the new stdin the process last rebuilt at home got.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? NewInput { get; private set; }

    public Microsoft.Win32.SafeHandles.SafeFileHandle ReplaceInput(int pid)
    {
        var (read, write) = OpenMosix.Linux.Descriptors.CreatePipe();
        NewInput = read;
        Calls.Enqueue($"replace-input {pid}");
        return write;
    }

    public void RaiseSignal(int pid, int signal) => SignalArrived?.Invoke(pid, new ArrivedSignal(signal));

    public void RaiseDied(int pid) => DeputyDied?.Invoke(pid);

    private sealed class FakeRounds(FakeMigrationEngine engine, int pid) : IPrecopyRounds
    {
        public int Rounds { get; private set; }

        public void WriteRound(Stream image)
        {
            Rounds++;
            engine.Calls.Enqueue($"round {Rounds} of {pid}");
            image.Write("round"u8);
        }

        public ulong PendingBytes() => 0;

        public void Dispose() => engine.Calls.Enqueue($"rounds done {pid}");
    }

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
