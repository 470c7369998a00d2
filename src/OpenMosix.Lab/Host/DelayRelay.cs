using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;

namespace OpenMosix.Lab.Host;

/// <summary>
/// Delay (and jitter) on a node's link without netem, which this project's test kernel lacks: the node's host veth
/// leaves the bridge and a tap device takes its place there; this relay, a process of its own (`om lab link-relay`),
/// passes every frame between the two, each after the delay, in both directions. The frames keep their order (a due
/// time is never earlier than the one before: jitter spreads the gaps, it does not reorder, unlike netem's default),
/// and the queue each way holds at most <see cref="QueueLimitBytes"/>, beyond which a frame is dropped as a full
/// queue drops it. Loss stays tc's (LinkEmulation), on the veth's two ends. The delay is at least what was asked for;
/// under load the relay's thread may wake late, which shows as extra jitter.
/// </summary>
public static class DelayRelay
{
    /// <summary>What each direction holds back at most: 16 MiB, a 50 ms delay at 2.5 Gbit/s.</summary>
    public const int QueueLimitBytes = 16 << 20;
    private const int FrameBuffer = 256 * 1024;

    /// <summary>Relays between <paramref name="veth"/> and a new tap <paramref name="tap"/> until either fails (the
    /// lab taken down: the veth is deleted); <paramref name="ready"/> is called once both are open.</summary>
    public static void Run(string veth, string tap, double delayMs, double jitterMs, Action ready)
    {
        // The veth first: the tap's appearing tells `om lab netem` that both are open (DelayRelays.Start).
        using var packets = FrameDevices.OpenPacketSocket(veth);
        using var tapDevice = FrameDevices.OpenTap(tap);
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        // From the node (arriving on its host veth) to the bridge, and from the bridge (sent to the tap) to the node.
        Start(new Direction(packets, tapDevice, delayMs, jitterMs), $"{veth}>{tap}", failed);
        Start(new Direction(tapDevice, packets, delayMs, jitterMs), $"{tap}>{veth}", failed);
        ready();
        throw new LabException($"link relay {veth} <-> {tap} stopped: {failed.Task.GetAwaiter().GetResult().Message}");
    }

    private static void Start(Direction direction, string name, TaskCompletionSource<Exception> failed)
    {
        foreach (var (loop, what) in new (Action, string)[] { (direction.Receive, "receive"), (direction.Send, "send") })
        {
            var thread = new Thread(() =>
            {
                try
                {
                    loop();
                }
                catch (Exception e) when (e is SyscallException or IOException)
                {
                    failed.TrySetResult(e);
                }
            }) { IsBackground = true, Name = $"{what} {name}" };
            thread.Start();
        }
    }

    /// <summary>One way: frames read from <paramref name="from"/>, queued with their due time, written to
    /// <paramref name="to"/> when due.</summary>
    private sealed class Direction(SafeFileHandle from, SafeFileHandle to, double delayMs, double jitterMs)
    {
        private readonly Queue<(long Due, byte[] Frame)> _queue = new();
        // A plain object: Monitor.Wait and Pulse need one (System.Threading.Lock has no condition).
        private readonly object _lock = new();
        private long _queuedBytes;
        private long _lastDue;

        public void Receive()
        {
            var buffer = new byte[FrameBuffer];
            while (true)
            {
                var length = FrameDevices.Read(from, buffer);
                if (length <= FrameDevices.HeaderLength) continue;
                var jitter = jitterMs > 0 ? (Random.Shared.NextDouble() * 2 - 1) * jitterMs : 0;
                var due = Stopwatch.GetTimestamp() + (long)(Math.Max(0, delayMs + jitter) * Stopwatch.Frequency / 1000);
                lock (_lock)
                {
                    if (_queuedBytes + length > QueueLimitBytes) continue;
                    _lastDue = Math.Max(_lastDue, due);
                    _queue.Enqueue((_lastDue, buffer.AsSpan(0, length).ToArray()));
                    _queuedBytes += length;
                    if (_queue.Count == 1) Monitor.Pulse(_lock);
                }
            }
        }

        public void Send()
        {
            while (true)
            {
                byte[] frame;
                lock (_lock)
                {
                    while (true)
                    {
                        if (_queue.Count == 0)
                        {
                            Monitor.Wait(_lock);
                            continue;
                        }
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _queue.Peek().Due);
                        if (wait <= TimeSpan.Zero) break;
                        // Only a new head could be due sooner, and frames are queued in due order: sleep it out.
                        Monitor.Wait(_lock, wait);
                    }
                    frame = _queue.Dequeue().Frame;
                    _queuedBytes -= frame.Length;
                }
                FrameDevices.Write(to, frame);
            }
        }
    }
}
