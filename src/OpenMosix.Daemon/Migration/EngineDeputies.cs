using System.Runtime.InteropServices;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Deputies kept by the checkpoint engine. Its events come on the tracer thread, which must never wait on the
/// network: they are queued and raised in order from a reader of their own.
/// </summary>
public sealed class EngineDeputies : IDeputyHost, IDisposable
{
    private readonly CheckpointEngine _engine;
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _dispatcher;
    // Trips home under way with pre-copy: the deputy laid out by their first round.
    private readonly ConcurrentDictionary<int, PrecopyTarget> _rounds = new();

    public EngineDeputies(CheckpointEngine engine)
    {
        _engine = engine;
        engine.DeputySignal += (pid, signal) => _events.Writer.TryWrite(() => SignalArrived?.Invoke(pid, signal));
        engine.DeputyDied += (pid, _) => _events.Writer.TryWrite(() => DeputyDied?.Invoke(pid));
        _dispatcher = Task.Run(async () =>
        {
            await foreach (var raise in _events.Reader.ReadAllAsync().ConfigureAwait(false)) raise();
        });
    }

    public event Action<int, ArrivedSignal>? SignalArrived;
    public event Action<int>? DeputyDied;

    public void MakeDeputy(int pid) => _engine.MakeDeputy(pid);

    public void AdoptDeputy(int pid) => _engine.AdoptDeputy(pid);

    public void EndDeputy(int pid, ExitStatus status)
    {
        _rounds.TryRemove(pid, out _);
        _engine.EndDeputy(pid, status);
    }

    public RestoredProcess RestoreInto(int pid, Stream image)
    {
        using var reader = new ImageReader(image, leaveOpen: true);
        var options = new RestoreOptions
        {
            KeepFrozen = true,
            WaitForOriginalThreadIds = Engine.EngineMigration.ThreadIdPatience,
            WaitForOriginalLockerIds = Engine.EngineMigration.LockerIdPatience,
        };
        return _rounds.TryRemove(pid, out var rounds)
            ? _engine.FinishPrecopyInto(rounds, reader, options)
            : _engine.RestoreInto(pid, reader, options);
    }

    public void TakeRound(int pid, Stream round)
    {
        using var reader = new ImageReader(round, leaveOpen: true);
        if (_rounds.TryGetValue(pid, out var rounds))
        {
            try
            {
                _engine.ContinuePrecopyInto(rounds, reader);
            }
            catch
            {
                _rounds.TryRemove(pid, out _);
                throw;
            }
        }
        else
        {
            _rounds[pid] = _engine.BeginPrecopyInto(pid, reader);
        }
    }

    public void AbandonRounds(int pid)
    {
        if (_rounds.TryRemove(pid, out var rounds)) _engine.AbandonPrecopyInto(rounds);
    }

    public SafeFileHandle ReplaceInput(int pid) => _engine.ReplaceInput(pid);

    public SafeFileHandle ReplaceOutput(int pid, int fd) => _engine.ReplaceOutput(pid, fd);

    public void LetRun(int pid) => _engine.Thaw(pid);

    public void FollowCopy(int pid, int signal) => _engine.FollowCopyInDeputy(pid, signal);

    public long CloseDescriptor(int pid, int fd) => _engine.CloseInDeputy(pid, fd);

    public long PutDescriptor(int pid, SafeHandle fd, int number) => _engine.PutInDeputy(pid, fd, number);

    public long MoveDescriptor(int pid, int from, int number) => _engine.MoveInDeputy(pid, from, number);

    public long CallInDeputy(int pid, long number, byte[] scratch, Func<long, long[]> arguments) =>
        _engine.CallInDeputy(pid, number, scratch, arguments);

    public void Dispose()
    {
        _events.Writer.TryComplete();
        _dispatcher.Wait(TimeSpan.FromSeconds(2));
    }
}
