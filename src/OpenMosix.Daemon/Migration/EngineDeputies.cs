using System.Threading.Channels;
using OpenMosix.Checkpoint.Engine;
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

    public event Action<int, int>? SignalArrived;
    public event Action<int>? DeputyDied;

    public void MakeDeputy(int pid) => _engine.MakeDeputy(pid);

    public void EndDeputy(int pid, ExitStatus status) => _engine.EndDeputy(pid, status);

    public RestoredProcess RestoreInto(int pid, Stream image)
    {
        using var reader = new OpenMosix.Checkpoint.Format.ImageReader(image, leaveOpen: true);
        return _engine.RestoreInto(pid, reader, new RestoreOptions
        {
            KeepFrozen = true,
            WaitForOriginalThreadIds = Engine.EngineMigration.ThreadIdPatience,
        });
    }

    public void LetRun(int pid) => _engine.Thaw(pid);

    public void Dispose()
    {
        _events.Writer.TryComplete();
        _dispatcher.Wait(TimeSpan.FromSeconds(2));
    }
}
