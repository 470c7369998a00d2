using System.Globalization;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The node protocol versions one omd speaks, <see cref="Min"/> to <see cref="Max"/>. Two nodes link at the highest
/// version both speak (the newer side speaks the older's), or refuse each other in one line naming both ranges. The
/// migration layer asks the link's <see cref="NodeLink.Protocol"/> before it sends a message an older node would not
/// know, so a rolling upgrade can reach one node after the other while processes move between old and new.
/// </summary>
public readonly record struct ProtocolRange(byte Min, byte Max)
{
    /// <summary>7: the hello carries this range (the version byte is its lowest), and copy-job reports go only to nodes
    /// that speak 7; 6: the record ciphers in the hello; 5: Pages frames (post-copy); 4: key shares in the hello and
    /// frames as records of our own after it (3: heartbeat frames, in TLS).</summary>
    public const byte Latest = 7;

    /// <summary>The oldest version this build still speaks: 6, the last before the hello carried a range. A node of
    /// version 6 checks only that the version byte is 6, and ignores the rest of a longer hello.</summary>
    public const byte Oldest = 6;

    /// <summary>What this build speaks.</summary>
    public static ProtocolRange Current { get; } = new(Oldest, Latest);

    /// <summary>The version both speak (the highest of the overlap), or null when the ranges do not meet.</summary>
    public static byte? Negotiate(ProtocolRange ours, ProtocolRange theirs)
    {
        var version = Math.Min(ours.Max, theirs.Max);
        return version >= Math.Max(ours.Min, theirs.Min) ? (byte)version : null;
    }

    /// <summary>"version 6" or "versions 6-7", as the refusal and `mosctl getlink` write it.</summary>
    public string Describe() => Min == Max ? $"version {Min}" : $"versions {Min}-{Max}";

    /// <summary>"6-7" (or "6"), as omd.toml's link.protocol_versions and `om status` write it.</summary>
    public override string ToString() => Min == Max ? Min.ToString(CultureInfo.InvariantCulture) : $"{Min}-{Max}";

    /// <summary>"6-7" or "6": the range, or null when the text is not one with 1 &lt;= min &lt;= max &lt;= 255.</summary>
    public static ProtocolRange? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('-');
        if (parts.Length is < 1 or > 2) return null;
        if (!byte.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)) return null;
        var max = min;
        if (parts.Length == 2 && !byte.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max)) return null;
        return min >= 1 && min <= max ? new ProtocolRange(min, max) : null;
    }
}
