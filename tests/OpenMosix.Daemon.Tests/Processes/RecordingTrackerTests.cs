using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Daemon.Processes;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>Tests of a real registry of node <paramref name="self"/> and of trackers of it, whose calls to Execed and
/// Ended are recorded.</summary>
public abstract class RecordingTrackerTests(ushort self)
{
    private readonly ConcurrentQueue<ManagedProcess> _execed = new();
    private readonly ConcurrentQueue<(string Program, TimeSpan Lifetime)> _ended = new();

    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    protected ProcessRegistry Registry { get; } = new(self);
    protected IReadOnlyCollection<ManagedProcess> Execed => _execed;
    protected IReadOnlyCollection<(string Program, TimeSpan Lifetime)> Ended => _ended;

    protected DescendantTracker Tracker() => new(Registry, NullLogger.Instance)
    {
        Execed = _execed.Enqueue,
        Ended = (program, lifetime) => _ended.Enqueue((program, lifetime)),
    };
}
