using System.Collections.Frozen;
using System.Text.Json;

namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>
/// Control messages on a node link: one JSON message per Control frame, at most <see cref="MaxBytes"/>. Receiving
/// names the kinds that may come; anything else (another frame type, malformed or oversized JSON, an unknown or
/// unexpected kind, fields out of range) is a <see cref="LinkException"/> with one line saying what came instead.
/// </summary>
public static class MessageWire
{
    /// <summary>Far above any real message (an offer lists the program's mapped files), far below a frame's limit.</summary>
    public const int MaxBytes = 256 << 10;

    private static readonly FrozenDictionary<Type, string> Kinds =
        MigrationJsonContext.Default.MigrationMessage.PolymorphismOptions!.DerivedTypes
            .ToFrozenDictionary(d => d.DerivedType, d => (string)d.TypeDiscriminator!);

    /// <summary>The kind a message type has on the wire ("offer", "move-failed", ...).</summary>
    public static string KindOf(Type type) => Kinds.TryGetValue(type, out var kind) ? kind : type.Name;

    public static byte[] Encode(MigrationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var json = JsonSerializer.SerializeToUtf8Bytes(message, MigrationJsonContext.Default.MigrationMessage);
        if (json.Length > MaxBytes)
            throw new LinkException($"a '{KindOf(message.GetType())}' message of {json.Length} bytes is over the limit of {MaxBytes}");
        return json;
    }

    public static Task SendAsync(NodeLink link, MigrationMessage message, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.SendAsync(FrameType.Control, Encode(message), cancel);
    }

    /// <summary>The next frame as one of the <paramref name="expected"/> message types, within <paramref name="timeout"/>.</summary>
    public static async Task<MigrationMessage> ReceiveAsync(NodeLink link, TimeSpan timeout, params Type[] expected)
    {
        ArgumentNullException.ThrowIfNull(link);
        using var cancel = new CancellationTokenSource(timeout);
        Frame? frame;
        try
        {
            frame = await link.ReceiveAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new LinkException($"node {link.PeerNode} did not answer within {timeout.TotalSeconds:F0} s (waiting for {Describe(expected)})");
        }
        if (frame is null) throw new LinkException($"node {link.PeerNode} closed the link (waiting for {Describe(expected)})");
        return Parse(frame.Value, link.PeerNode, expected);
    }

    public static async Task<T> ReceiveAsync<T>(NodeLink link, TimeSpan timeout) where T : MigrationMessage =>
        (T)await ReceiveAsync(link, timeout, typeof(T)).ConfigureAwait(false);

    /// <summary>A received frame as one of the <paramref name="expected"/> message types.</summary>
    public static MigrationMessage Parse(Frame frame, ushort peer, params Type[] expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (frame.Type != FrameType.Control)
            throw new LinkException($"node {peer} sent a {frame.Type} frame where {Describe(expected)} was due");
        if (frame.Payload.Length > MaxBytes)
            throw new LinkException($"node {peer} sent a control message of {frame.Payload.Length} bytes (at most {MaxBytes})");
        MigrationMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(frame.Payload, MigrationJsonContext.Default.MigrationMessage);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new LinkException($"node {peer} sent a malformed control message: {OneLine(e.Message)}", e);
        }
        if (message is null) throw new LinkException($"node {peer} sent an empty control message where {Describe(expected)} was due");
        var kind = KindOf(message.GetType());
        if (!expected.Contains(message.GetType()))
            throw new LinkException($"node {peer} sent '{kind}' where {Describe(expected)} was due");
        if (message.Problem() is { } problem)
            throw new LinkException($"node {peer} sent a bad '{kind}': {problem}");
        return message;
    }

    public static string Describe(IEnumerable<Type> expected) => string.Join(" or ", expected.Select(KindOf));

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
