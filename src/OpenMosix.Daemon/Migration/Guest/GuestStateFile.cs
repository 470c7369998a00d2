using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Where this node's guests outlive an omd that dies without a drain: RUN_DIR/guests.json names each copy (PID and start
/// time), its home and PID there, its keeper (<see cref="GuestKeeper"/>, PID and start time) and which of the keeper's
/// descriptors are which of the copy's relayed outputs, its stdin and its forwarding listener, with what the registry
/// needs to list it again. Written whole and renamed (0600) as guests come and go; the next omd adopts each one
/// (<see cref="GuestAdoption"/>). A file that cannot be read costs one warning and is ignored.
/// </summary>
public sealed partial class GuestStateFile(string directory, ILogger logger)
{
    public const string FileName = "guests.json";
    public const int CurrentVersion = 1;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, SavedGuest> _guests = [];

    public string Path { get; } = System.IO.Path.Join(directory, FileName);

    /// <summary>The guests the last omd left; they stay in the file until each is adopted again or given up.</summary>
    public IReadOnlyList<SavedGuest> Load()
    {
        if (!File.Exists(Path)) return [];
        try
        {
            var file = JsonSerializer.Deserialize(File.ReadAllBytes(Path), GuestStateJsonContext.Default.SavedGuestFile)
                ?? throw new JsonException("the file holds null");
            if (file.Version != CurrentVersion) throw new JsonException($"version {file.Version} is not {CurrentVersion}");
            var guests = (file.Guests ?? []).OfType<SavedGuest>().Where(g => g.CopyPid > 0 && g.KeeperPid > 0 && g.HomePid > 0).ToList();
            lock (_gate)
                foreach (var guest in guests)
                    _guests[guest.CopyPid] = guest;
            return guests;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ArgumentException)
        {
            LogUnreadable(logger, Path, e.Message.ReplaceLineEndings(" "));
            return [];
        }
    }

    public void Add(SavedGuest guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        lock (_gate)
        {
            _guests[guest.CopyPid] = guest;
            Write();
        }
    }

    public void Remove(int copyPid)
    {
        lock (_gate)
        {
            if (_guests.Remove(copyPid)) Write();
        }
    }

    private void Write()
    {
        var file = new SavedGuestFile(CurrentVersion, [.. _guests.Values.OrderBy(g => g.CopyPid)]);
        try
        {
            Config.PrivateFile.Replace(Path, stream => JsonSerializer.Serialize(stream, file, GuestStateJsonContext.Default.SavedGuestFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogUnsaved(logger, Path, e.Message.ReplaceLineEndings(" "));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "guests not saved to {Path} ({Reason}): an omd started after a crash of this one will not adopt them")]
    private static partial void LogUnsaved(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} is unreadable ({Reason}): ignored, no guest adopted")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}

/// <summary>
/// One guest as the state file keeps it. The keeper holds, from its descriptor 3 on: each of <see cref="Outputs"/> in
/// that order, then the copy's stdin when <see cref="Input"/>, then the forwarding listener when <see cref="Listener"/>.
/// <see cref="HomeGroup"/> is the copy's process group at home, which its tcsetpgrp calls are turned from.
/// </summary>
public sealed record SavedGuest(int CopyPid, ulong CopyStart, int Home, int HomePid, int KeeperPid, ulong KeeperStart,
    IReadOnlyList<int> Outputs, bool Input, bool InputIsTerminal, int? TerminalOutput, bool Listener, int ReservedFrom, int ReservedTop,
    uint Uid, string Command, string? Decay, string? Hint, bool InputTally = false, int HomeGroup = 0)
{
    /// <summary>How many descriptors the keeper holds: the outputs, the stdin, the stdin's tally
    /// (<see cref="Guest.InputTally"/>), the listener, in that order.</summary>
    public int Held => Outputs.Count + (Input ? 1 : 0) + (InputTally ? 1 : 0) + (Listener ? 1 : 0);
}

/// <summary>The state file: its shape's version, and the guests.</summary>
public sealed record SavedGuestFile(int Version, IReadOnlyList<SavedGuest?>? Guests);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SavedGuestFile))]
internal sealed partial class GuestStateJsonContext : JsonSerializerContext;
