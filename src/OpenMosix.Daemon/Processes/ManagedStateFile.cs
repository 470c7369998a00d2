using System.Text.Json.Serialization;
using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Where the processes omd manages at home outlive omd itself: RUN_DIR/managed.json, written as omd stops (after its
/// drain brought its processes home) and read, then removed, by the next omd, which takes them back with their
/// settings (lock, decay, job hint, om run's placement wishes). Each is named by its PID and its start time, so a PID
/// handed to another process meanwhile is never taken for it. Written whole to a temporary file and renamed over the
/// old one (0600). A file that cannot be read or understood costs one warning and is ignored: it must never keep omd
/// from starting.
/// </summary>
public sealed partial class ManagedStateFile(string directory, ILogger logger)
{
    public const string FileName = "managed.json";
    public const int CurrentVersion = 1;
    private static readonly StateFileWarnings Warnings =
        new("managed processes", "ignored, no process taken back", "the next omd will not know them");

    public string Path { get; } = System.IO.Path.Join(directory, FileName);

    /// <summary>Writes the home processes of <paramref name="registry"/> that run here now; false when it could not.</summary>
    public bool Save(ProcessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var saved = new SavedManaged(CurrentVersion, [.. registry.RunningAtHome().Select(Saved)]);
        try
        {
            StateFile.Write(Path, saved, ManagedStateJsonContext.Default.SavedManaged);
            LogSaved(logger, saved.Processes?.Count ?? 0, Path);
            return true;
        }
        catch (Exception e) when (StateFile.Unwritable(e))
        {
            Warnings.Unsaved(logger, Path, StateFile.Reason(e));
            return false;
        }
    }

    /// <summary>
    /// Takes back into <paramref name="registry"/> the processes the file names that still run (same PID, same start
    /// time), then removes the file: it speaks of one omd's end, and a later start must not read it again. Returns how
    /// many were taken back.
    /// </summary>
    public int TakeBack(ProcessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        SavedManaged? saved;
        try
        {
            saved = StateFile.Read(Path, ManagedStateJsonContext.Default.SavedManaged, CurrentVersion);
            if (saved is null) return 0;
        }
        catch (Exception e) when (StateFile.Unreadable(e))
        {
            Warnings.Unreadable(logger, Path, StateFile.Reason(e));
            Remove();
            return 0;
        }
        var taken = 0;
        var gone = 0;
        foreach (var entry in saved.Processes ?? [])
        {
            if (entry is null || entry.Pid <= 0) continue;
            if (registry.TakeBack(Process(entry, registry.Self))) taken++;
            else gone++;
        }
        LogTakenBack(logger, taken, gone, Path);
        Remove();
        return taken;
    }

    private void Remove()
    {
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (StateFile.Unwritable(e))
        {
            Warnings.Unsaved(logger, Path, StateFile.Reason(e));
        }
    }

    internal static SavedProcess Saved(ManagedProcess p) => new(p.Pid, p.StartTime, p.Uid, p.Command, p.Locked,
        p.Decay is { } decay ? JobOptions.Name(decay) : null, p.Hint == JobHint.Measured ? null : p.Hint.ToString().ToLowerInvariant(),
        p.Request, p.Adopted, p.ParentPid, p.Program, p.Migrations, p.AwayCpuSeconds);

    internal static ManagedProcess Process(SavedProcess s, ushort self)
    {
        // A word this omd does not know (a newer one wrote it) leaves the node's default in its place.
        JobOptions.TryParseDecay(s.Decay, out var decay);
        JobOptions.TryParseHint(s.Hint, out var hint);
        return new ManagedProcess(s.Pid, s.Uid, self, s.Command ?? "?")
        {
            StartTime = s.StartTime, Locked = s.Locked, Decay = decay, Hint = hint, Request = s.Request, Adopted = s.Adopted,
            ParentPid = s.ParentPid, Program = s.Program, Migrations = s.Migrations,
            AwayCpuSeconds = s.AwayCpuSeconds,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} managed processes saved to {Path} for the next omd")]
    private static partial void LogSaved(ILogger logger, int count, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "took back {Taken} managed processes from {Path} ({Gone} ended while omd was stopped)")]
    private static partial void LogTakenBack(ILogger logger, int taken, int gone, string path);
}

/// <summary>One managed home process as the state file keeps it.</summary>
public sealed record SavedProcess(int Pid, ulong StartTime, uint Uid, string? Command, bool Locked, string? Decay, string? Hint,
    RunRequest? Request, bool Adopted, int ParentPid, string? Program, int Migrations, double AwayCpuSeconds);

/// <summary>The state file: its shape's version, and the processes.</summary>
public sealed record SavedManaged(int Version, IReadOnlyList<SavedProcess?>? Processes) : IVersionedState;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SavedManaged))]
internal sealed partial class ManagedStateJsonContext : JsonSerializerContext;
