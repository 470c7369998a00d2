using System.Text.RegularExpressions;

namespace OpenMosix.Lab;

/// <summary>
/// A lab's name and every kernel object name derived from it. Interface names have at most 15 characters, so a name
/// is at most 10: the bridge is NAMEbr, node I's host-side veth NAMEvI (I ≤ 253), its network namespace NAME-I.
/// </summary>
public sealed partial record LabName
{
    public const string Default = "omlab";
    public const int MaxLength = 10;
    public const string CgroupPrefix = "omlab-";

    private LabName(string value) => Value = value;

    public string Value { get; }

    public static LabName Parse(string value)
    {
        if (!ValidName().IsMatch(value))
            throw new LabException($"lab name '{value}' is not valid: 1 to {MaxLength} characters, lower-case letters, digits and '-', starting with a letter");
        return new LabName(value);
    }

    public static bool TryParse(string value, out LabName? name)
    {
        name = ValidName().IsMatch(value) ? new LabName(value) : null;
        return name is not null;
    }

    public string Bridge => $"{Value}br";
    public string HostVeth(int node) => $"{Value}v{node}";
    /// <summary>The tap a delay relay puts on the bridge in the node's place (`om lab netem --delay` without netem).</summary>
    public string RelayTap(int node) => $"{Value}t{node}";
    public string NetworkNamespace(int node) => $"{Value}-{node}";
    public string CgroupGroup => CgroupPrefix + Value;

    /// <summary>Whether a link is a host-side veth of this lab, found by name alone (after a crash there is no state).</summary>
    public bool IsHostVeth(string link) => NodeSuffix(link, $"{Value}v") > 0;

    public bool IsNetworkNamespace(string netns) => NodeSuffix(netns, $"{Value}-") > 0;

    public override string ToString() => Value;

    // "PREFIX" + digits only: the names of two labs never match each other's pattern, since a suffix has no letters.
    private static int NodeSuffix(string name, string prefix) =>
        name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length && name.Length - prefix.Length <= 3
        && name.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0 && name[prefix.Length] != '0'
            ? int.Parse(name.AsSpan(prefix.Length), System.Globalization.CultureInfo.InvariantCulture)
            : 0;

    [GeneratedRegex("^[a-z][a-z0-9-]{0,9}$")]
    private static partial Regex ValidName();
}
