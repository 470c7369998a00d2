using System.Globalization;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Deputies kept by the checkpoint engine, watched from /proc: a signal that turns up pending on a deputy is
/// reported once for forwarding (it stays pending, blocked, and never acts at home), and a deputy that is gone or a
/// zombie (SIGKILL at home) is reported dead.
/// </summary>
public sealed class EngineDeputies : IDeputyHost, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private readonly CheckpointEngine _engine;
    private readonly Dictionary<int, ulong> _forwarded = [];
    private readonly Lock _gate = new();
    private readonly Timer _timer;

    public EngineDeputies(CheckpointEngine engine)
    {
        _engine = engine;
        _timer = new Timer(_ => Poll(), null, PollInterval, PollInterval);
    }

    public event Action<int, int>? SignalArrived;
    public event Action<int>? DeputyDied;

    public void MakeDeputy(int pid)
    {
        _engine.MakeDeputy(pid);
        lock (_gate) _forwarded[pid] = Pending(pid) ?? 0;
    }

    public void EndDeputy(int pid, ExitStatus status)
    {
        // Watched until it has ended: if ending it fails and it is killed instead, the poll still collects it.
        _engine.EndDeputy(pid, status);
        lock (_gate) _forwarded.Remove(pid);
    }

    public void Dispose() => _timer.Dispose();

    private void Poll()
    {
        List<(int Pid, ulong Pending)> deputies;
        lock (_gate) deputies = [.. _forwarded.Select(d => (d.Key, d.Value))];
        foreach (var (pid, known) in deputies)
        {
            var pending = Pending(pid);
            if (pending is null)
            {
                if (!_engine.ReapDeputy(pid)) continue;
                lock (_gate) _forwarded.Remove(pid);
                DeputyDied?.Invoke(pid);
                continue;
            }
            var fresh = pending.Value & ~known;
            if (fresh == 0) continue;
            lock (_gate)
            {
                if (!_forwarded.ContainsKey(pid)) continue;
                _forwarded[pid] = known | fresh;
            }
            for (var signal = 1; signal <= 64; signal++)
                if ((fresh & (1UL << (signal - 1))) != 0 && signal is not (Signals.SIGKILL or Signals.SIGSTOP))
                    SignalArrived?.Invoke(pid, signal);
        }
    }

    /// <summary>Signals pending on the process (thread and shared), or null when it is gone or a zombie.</summary>
    private static ulong? Pending(int pid)
    {
        try
        {
            ulong pending = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("State:", StringComparison.Ordinal) && (line.Contains('Z', StringComparison.Ordinal) || line.Contains('X', StringComparison.Ordinal))) return null;
                if (line.StartsWith("SigPnd:", StringComparison.Ordinal) || line.StartsWith("ShdPnd:", StringComparison.Ordinal))
                    pending |= ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
            return pending;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
