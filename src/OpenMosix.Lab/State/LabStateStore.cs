using System.Text.Json;

namespace OpenMosix.Lab.State;

/// <summary>Reads and writes the state file; a write goes to a temporary file first so a crash never leaves half a file.</summary>
public static class LabStateStore
{
    public static void Save(LabLayout layout, LabState state)
    {
        Directory.CreateDirectory(layout.Root);
        var temporary = layout.StateFile + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(state, LabJsonContext.Default.LabState));
        File.Move(temporary, layout.StateFile, overwrite: true);
    }

    /// <summary>The state, or null when the file is missing or unreadable (then only names can find the lab's leftovers).</summary>
    public static LabState? TryLoad(LabLayout layout)
    {
        try
        {
            var state = JsonSerializer.Deserialize(File.ReadAllBytes(layout.StateFile), LabJsonContext.Default.LabState);
            return state is { Nodes: not null } && state.Name == layout.Name.Value ? state : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public static LabState Load(LabLayout layout) => TryLoad(layout) ?? throw new LabException(
        File.Exists(layout.StateFile)
            ? $"lab {layout.Name}: state file {layout.StateFile} is unreadable; `om lab down --name {layout.Name}` removes what is left"
            : $"no lab named {layout.Name} (no {layout.StateFile}); `om lab up` creates one");
}
