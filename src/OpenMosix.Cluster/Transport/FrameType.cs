namespace OpenMosix.Cluster.Transport;

/// <summary>What a frame on a node link carries.</summary>
public enum FrameType : byte
{
    /// <summary>A JSON control message (requests, answers, signals, exit).</summary>
    Control = 1,
    /// <summary>A piece of a process image.</summary>
    Image = 2,
    /// <summary>The image is complete.</summary>
    ImageEnd = 3,
    /// <summary>Bytes for or from a descriptor of a migrated process: payload = fd u8, then the bytes.</summary>
    Stdio = 4,
    /// <summary>A descriptor reached end of file (payload = fd u8).</summary>
    StdioEnd = 5,
    /// <summary>Nothing but a sign of life, sent when a link has had nothing else to send for a while (no payload);
    /// the receiving link drops it (<see cref="LinkLiveness"/>).</summary>
    Heartbeat = 6,
    /// <summary>A call on a forwarded descriptor (copy's node → home) or its result (home → copy's node); binary,
    /// see OpenMosix.Daemon.Migration.Forwarding.ForwardWire.</summary>
    Forward = 7,
    /// <summary>Post-copy pages: a copy's node asks home for pages of its process's memory, home answers with them
    /// (binary, see OpenMosix.Daemon.Migration.Postcopy.PageWire). Handed to the link's page handler as they arrive,
    /// never queued behind control and stdio frames (<see cref="NodeLink.DivertPages"/>).</summary>
    Pages = 8,
}

public readonly record struct Frame(FrameType Type, byte[] Payload);

/// <summary>
/// Takes a frame on the link's reading thread, or leaves it (false) for <see cref="NodeLink.ReceiveAsync(FrameSink, CancellationToken)"/>
/// to return. <paramref name="payload"/> is the link's own memory, valid only during the call: a sink that takes the
/// frame uses its bytes there (a relay writes them into home's pipe); one that leaves it gets them again as a
/// <see cref="Frame"/>.
/// </summary>
public delegate bool FrameSink(FrameType type, ReadOnlySpan<byte> payload);
