using System.Diagnostics;
using OpenMosix.Linux.Events;

namespace OpenMosix.TestSupport;

/// <summary>The kernel's process connector read by tests.</summary>
public static class ProcessReports
{
    /// <summary>Receives, in bounded waits, until <paramref name="done"/> holds for what was received.</summary>
    public static List<ProcessEvent> ReceiveUntil(ProcessEventSource source, Func<List<ProcessEvent>, bool> done, string what, TimeSpan patience)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(done);
        var events = new List<ProcessEvent>();
        var clock = Stopwatch.StartNew();
        while (!done(events))
        {
            if (clock.Elapsed > patience) throw new TimeoutException($"no {what} within {patience.TotalSeconds:F0} s; got {events.Count} events");
            source.Receive(events, TimeSpan.FromMilliseconds(200));
        }
        return events;
    }
}
