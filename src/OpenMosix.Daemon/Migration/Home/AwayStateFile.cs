using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Where home's processes running away outlive an omd that dies without a drain (SIGKILL, a crash of omd alone, an
/// upgrade that cannot wait): RUN_DIR/away.json names each with its PID and start time, its settings, the node its
/// copy runs on and how to reach it, the copy's PID there and what the relay carries. It is written whole and renamed
/// (0600) at every change of the set (a move out committed, a process home, ended or lost), so a new omd always finds
/// the last. How much of each output home delivered is counted apart, as it is delivered (<see cref="DeliveredCounts"/>,
/// RUN_DIR/away/PID.delivered). A file that cannot be read or understood costs one warning and is ignored.
/// </summary>
public sealed class AwayStateFile(string directory, ILogger logger)
    : Config.KeyedStateFile<SavedAway, SavedAwayFile>(System.IO.Path.Join(directory, FileName), AwayStateJsonContext.Default.SavedAwayFile, CurrentVersion,
        new("processes away", "ignored, no process away taken over", "an omd started after a crash of this one will not take them over"), logger)
{
    public const string FileName = "away.json";
    public const int CurrentVersion = 1;

    public string CountsDirectory { get; } = System.IO.Path.Join(directory, "away");

    /// <summary>The entries of a file's bytes; a <see cref="JsonException"/> in one line saying what is wrong.</summary>
    public static IReadOnlyList<SavedAway> Parse(byte[] json) =>
        Entries(Config.StateFile.Parse(json, AwayStateJsonContext.Default.SavedAwayFile, CurrentVersion));

    private static List<SavedAway> Entries(SavedAwayFile file)
    {
        var entries = new List<SavedAway>();
        foreach (var entry in file.Away ?? [])
        {
            if (entry?.Problem() is { } problem) throw new JsonException($"process {entry.Process?.Pid}: {problem}");
            if (entry is not null) entries.Add(entry);
        }
        return entries;
    }

    /// <summary>The delivered counts of <paramref name="pid"/>: zero for a move out (<paramref name="fresh"/>), or as
    /// the last omd left them.</summary>
    public DeliveredCounts Counts(int pid, bool fresh) => DeliveredCounts.Open(CountsDirectory, pid, fresh);

    protected override int KeyOf(SavedAway entry) => entry.Process.Pid;

    protected override IReadOnlyList<SavedAway> EntriesOf(SavedAwayFile file) => Entries(file);

    protected override SavedAwayFile FileOf(IReadOnlyList<SavedAway> entries) => new(CurrentVersion, entries);

    /// <summary>The process is not away any more (home, ended, lost): its counts go with its entry.</summary>
    protected override void Removed(int key)
    {
        try
        {
            File.Delete(DeliveredCounts.PathOf(CountsDirectory, key));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Unsaved(e.Message);
        }
    }
}

/// <summary>
/// One process running away as the state file keeps it: the process (as managed.json keeps it), the node its copy runs
/// on and that node's migration endpoint, the copy's PID there, the relayed outputs and whether its stdin is relayed.
/// </summary>
public sealed record SavedAway(SavedProcess Process, int Node, string Endpoint, int RemotePid, IReadOnlyList<int> Outputs, bool Input)
{
    /// <summary>Why the entry makes no sense, or null.</summary>
    public string? Problem() =>
        Process is null || Process.Pid <= 0 ? "no process, or a pid that is not positive"
        : Node is <= 0 or > ushort.MaxValue ? $"node {Node} out of range"
        : !IPEndPoint.TryParse(Endpoint ?? "", out var endpoint) || endpoint.Port == 0 ? $"'{Endpoint}' is not an address and port"
        : RemotePid <= 0 ? "remote pid must be positive"
        : Outputs is null || Outputs.Any(fd => fd is <= 0 or >= DeliveredCounts.MaxFd) ? "relayed outputs out of range"
        : null;
}

/// <summary>The state file: its shape's version, and the processes away.</summary>
public sealed record SavedAwayFile(int Version, IReadOnlyList<SavedAway?>? Away) : Config.IVersionedState;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SavedAwayFile))]
internal sealed partial class AwayStateJsonContext : JsonSerializerContext;
