using System.Text.Json;
using System.Text.Json.Serialization;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// Where the mosctl switches outlive omd: STATE_DIR/switches.json, {"version": 1, "on": ["block", "stay"]}.
/// Written whole to a temporary file and renamed over the old one (0600), so a crash leaves the old or the new file,
/// never half of one. A file that cannot be read or understood costs one warning and the switches start off: it must
/// never keep omd from starting.
/// </summary>
public sealed class SwitchFile(string directory, ILogger logger)
{
    public const string FileName = "switches.json";
    public const int CurrentVersion = 1;
    private static readonly StateFileWarnings Warnings = new("switches", "switches start off", "they last until omd stops");

    public string Path { get; } = System.IO.Path.Join(directory, FileName);

    public NodeFlags Load()
    {
        try
        {
            var saved = StateFile.Read(Path, SwitchFileJsonContext.Default.SavedSwitches, CurrentVersion);
            var flags = NodeFlags.None;
            foreach (var name in saved?.On ?? [])
                flags |= NodeSwitches.Names.TryGetValue(name, out var flag) ? flag : throw new JsonException($"no switch '{name}'");
            return flags;
        }
        catch (Exception e) when (StateFile.Unreadable(e))
        {
            Warnings.Unreadable(logger, Path, StateFile.Reason(e));
            return NodeFlags.None;
        }
    }

    public void Save(NodeFlags flags)
    {
        try
        {
            var saved = new SavedSwitches(CurrentVersion, NodeSwitches.NamesOf(flags));
            StateFile.Write(Path, saved, SwitchFileJsonContext.Default.SavedSwitches);
        }
        catch (Exception e) when (StateFile.Unwritable(e))
        {
            Warnings.Unsaved(logger, Path, StateFile.Reason(e));
        }
    }
}

/// <summary>The saved form of the switches: their mosctl names, under a version for later changes of shape.</summary>
public sealed record SavedSwitches(int Version, IReadOnlyList<string>? On) : IVersionedState;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SavedSwitches))]
internal sealed partial class SwitchFileJsonContext : JsonSerializerContext;
