using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Daemon.Config;

/// <summary>The saved form of a state file: its shape carries a version, so that a later omd can tell an older shape.</summary>
public interface IVersionedState
{
    int Version { get; }
}

/// <summary>
/// A JSON file in which omd keeps state across its restarts (the mosctl switches, the managed processes): written
/// whole through <see cref="PrivateFile"/>, read back only when it has the version this omd writes. A file that cannot
/// be read or written costs a warning (<see cref="StateFileWarnings"/>); it must never keep omd from starting.
/// </summary>
public static class StateFile
{
    /// <summary>
    /// The state in <paramref name="path"/>, or null when there is no such file; a <see cref="JsonException"/> when it
    /// holds null or another version than <paramref name="version"/>.
    /// </summary>
    public static T? Read<T>(string path, JsonTypeInfo<T> type, int version) where T : class, IVersionedState =>
        File.Exists(path) ? Parse(File.ReadAllBytes(path), type, version) : null;

    /// <summary>The state in <paramref name="json"/>; a <see cref="JsonException"/> when it is not JSON of that shape,
    /// holds null or another version than <paramref name="version"/>.</summary>
    public static T Parse<T>(byte[] json, JsonTypeInfo<T> type, int version) where T : class, IVersionedState
    {
        T state;
        try
        {
            state = JsonSerializer.Deserialize(json, type) ?? throw new JsonException("the file holds null");
        }
        catch (ArgumentException e)
        {
            // What the serializer throws for some malformed input: as unusable as any other.
            throw new JsonException(e.Message, e);
        }
        return state.Version == version ? state : throw new JsonException($"version {state.Version} is not {version}");
    }

    public static void Write<T>(string path, T state, JsonTypeInfo<T> type) =>
        PrivateFile.Replace(path, file => JsonSerializer.Serialize(file, state, type));

    /// <summary>Whether <paramref name="e"/> is what reading a state file may throw: the file is unusable, not omd.</summary>
    public static bool Unreadable(Exception e) => Unwritable(e) || e is JsonException;

    /// <summary>Whether <paramref name="e"/> is what writing a state file may throw.</summary>
    public static bool Unwritable(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>The reason for a warning, on one line.</summary>
    public static string Reason(Exception e) => e.Message.ReplaceLineEndings(" ");
}

/// <summary>
/// The two warnings of a state file, worded alike for every kind: it names what the file holds
/// (<paramref name="holds"/>) and what follows for omd when it cannot be read (<paramref name="ifUnreadable"/>) and
/// when it cannot be written (<paramref name="ifUnsaved"/>).
/// </summary>
public sealed partial class StateFileWarnings(string holds, string ifUnreadable, string ifUnsaved)
{
    public void Unreadable(ILogger logger, string path, string reason) => LogUnreadable(logger, path, reason, ifUnreadable);

    public void Unsaved(ILogger logger, string path, string reason) => LogUnsaved(logger, holds, path, reason, ifUnsaved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} is unreadable ({Reason}): {Consequence}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason, string consequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Holds} not saved to {Path} ({Reason}): {Consequence}")]
    private static partial void LogUnsaved(ILogger logger, string holds, string path, string reason, string consequence);
}
