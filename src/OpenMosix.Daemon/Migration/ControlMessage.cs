using System.Text.Json;
using System.Text.Json.Serialization;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The control messages of a migration link, in order: home → target <c>offer</c>; target → home <c>accept</c> or
/// <c>refuse</c>; with pre-copy, rounds of home → target <c>precopy</c> and a round image (Image frames, ImageEnd),
/// each answered <c>precopied</c> (or <c>failed</c>); home → target <c>final</c> and the image; target → home <c>restored</c> (the copy exists,
/// frozen) or <c>failed</c>; home → target <c>commit</c> (or <c>abort</c>); target → home <c>running</c>. Then the
/// link relays: Stdio frames both ways, <c>signal</c> home → target, <c>exit</c> target → home. While it relays, the
/// node the process runs on may ask home to move it on (<c>move</c>, to <see cref="ControlMessage.Target"/>: home or
/// another node), because it balances load, is short of memory or expels its guests; home answers <c>move-failed</c>
/// when it could not, or carries the move out (<c>come-home</c>, ...).
/// </summary>
public sealed record FileFingerprint(string Path, long Size);

public sealed record ControlMessage(string Kind)
{
    public int Pid { get; init; }
    public int Uid { get; init; }
    public int HomeNode { get; init; }
    public string? Command { get; init; }
    public string? Kernel { get; init; }
    public long MemoryBytes { get; init; }
    public int RemotePid { get; init; }
    public IReadOnlyList<int>? RelayedOutputs { get; init; }
    public bool RelaysInput { get; init; }
    /// <summary>Files the process runs from (its program and mapped libraries) with their sizes: the target must
    /// have the same ones at the same paths.</summary>
    public IReadOnlyList<FileFingerprint>? Files { get; init; }
    /// <summary>The home terminal's modes (struct termios) and size, when the process's stdio was a terminal.</summary>
    public byte[]? TerminalModes { get; init; }
    public byte[]? TerminalSize { get; init; }
    public int Signal { get; init; }
    /// <summary>The process's decay mode and job hint (offer), so the node it runs on measures it as home did.</summary>
    public string? Decay { get; init; }
    public string? Hint { get; init; }
    /// <summary>The number of a pre-copy round (precopy).</summary>
    public int Round { get; init; }
    public int Code { get; init; }
    /// <summary>Where the process should go (move): a node id; home's own id brings it home.</summary>
    public int Target { get; init; }
    public string? Reason { get; init; }

    public static Task SendAsync(NodeLink link, ControlMessage message, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.SendAsync(FrameType.Control, JsonSerializer.SerializeToUtf8Bytes(message, MigrationJsonContext.Default.ControlMessage), cancel);
    }

    /// <summary>The next frame as a control message of one of the expected kinds; anything else is a protocol error.</summary>
    public static async Task<ControlMessage> ReceiveAsync(NodeLink link, TimeSpan timeout, params string[] kinds)
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
            throw new LinkException($"node {link.PeerNode} did not answer within {timeout.TotalSeconds:F0} s (waiting for {string.Join(" or ", kinds)})");
        }
        if (frame is null) throw new LinkException($"node {link.PeerNode} closed the link (waiting for {string.Join(" or ", kinds)})");
        return Parse(frame.Value, link.PeerNode, kinds);
    }

    public static ControlMessage Parse(Frame frame, ushort peer, params string[] kinds)
    {
        if (frame.Type != FrameType.Control)
            throw new LinkException($"node {peer} sent a {frame.Type} frame where a control message was due");
        ControlMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(frame.Payload, MigrationJsonContext.Default.ControlMessage);
        }
        catch (JsonException e)
        {
            throw new LinkException($"node {peer} sent a malformed control message: {e.Message}", e);
        }
        if (message is null || (kinds.Length > 0 && !kinds.Contains(message.Kind)))
            throw new LinkException($"node {peer} sent '{message?.Kind}' where {string.Join(" or ", kinds)} was due");
        return message;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(ControlMessage))]
[JsonSerializable(typeof(FileFingerprint))]
internal sealed partial class MigrationJsonContext : JsonSerializerContext;
