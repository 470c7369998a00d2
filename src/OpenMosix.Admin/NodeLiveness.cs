using System.Text.Json.Serialization;

namespace OpenMosix.Admin;

/// <summary>
/// How a node looks from here: the gossip state of its newest vector, or Unknown for a map node never heard from.
/// The API carries it as a lower-case word ("alive", "suspect", "dead", "unknown"), as `om status --json` prints it.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeLiveness>))]
public enum NodeLiveness
{
    [JsonStringEnumMemberName("alive")]
    Alive,

    [JsonStringEnumMemberName("suspect")]
    Suspect,

    [JsonStringEnumMemberName("dead")]
    Dead,

    [JsonStringEnumMemberName("unknown")]
    Unknown,
}

public static class NodeLivenessNames
{
    /// <summary>The word people read (om status, mosctl status): the same as on the wire.</summary>
    public static string Name(this NodeLiveness state) => state switch
    {
        NodeLiveness.Alive => "alive",
        NodeLiveness.Suspect => "suspect",
        NodeLiveness.Dead => "dead",
        _ => "unknown",
    };
}
