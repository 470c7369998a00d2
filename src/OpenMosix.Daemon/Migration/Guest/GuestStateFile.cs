using System.Text.Json.Serialization;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Where this node's guests outlive an omd that dies without a drain: RUN_DIR/guests.json names each copy (PID and start
/// time), its home and PID there, its keeper (<see cref="GuestKeeper"/>, PID and start time) and which of the keeper's
/// descriptors are which of the copy's relayed outputs, its stdin and its forwarding listener, with what the registry
/// needs to list it again. Written whole and renamed (0600) as guests come and go; the next omd adopts each one
/// (<see cref="GuestAdoption"/>). A file that cannot be read costs one warning and is ignored.
/// </summary>
public sealed class GuestStateFile(string directory, ILogger logger)
    : Config.KeyedStateFile<SavedGuest, SavedGuestFile>(System.IO.Path.Join(directory, FileName), GuestStateJsonContext.Default.SavedGuestFile, CurrentVersion,
        new("guests", "ignored, no guest adopted", "an omd started after a crash of this one will not adopt them"), logger)
{
    public const string FileName = "guests.json";
    public const int CurrentVersion = 1;

    protected override int KeyOf(SavedGuest entry) => entry.CopyPid;

    protected override IReadOnlyList<SavedGuest> EntriesOf(SavedGuestFile file) =>
        [.. (file.Guests ?? []).OfType<SavedGuest>().Where(g => g.CopyPid > 0 && g.KeeperPid > 0 && g.HomePid > 0)];

    protected override SavedGuestFile FileOf(IReadOnlyList<SavedGuest> entries) => new(CurrentVersion, entries);
}

/// <summary>
/// One guest as the state file keeps it. The keeper holds, from its descriptor 3 on: each of <see cref="Outputs"/> in
/// that order, then the copy's stdin when <see cref="Input"/>, then the forwarding listener when <see cref="Listener"/>.
/// <see cref="HomeGroup"/> is the copy's process group at home, which its tcsetpgrp calls are turned from.
/// </summary>
public sealed record SavedGuest(int CopyPid, ulong CopyStart, int Home, int HomePid, int KeeperPid, ulong KeeperStart,
    IReadOnlyList<int> Outputs, bool Input, bool InputIsTerminal, int? TerminalOutput, bool Listener, int ReservedFrom, int ReservedTop,
    uint Uid, string Command, string? Decay, string? Hint, bool InputTally = false, int HomeGroup = 0, bool Locked = false,
    OpenMosix.Admin.RunRequest? Request = null)
{
    /// <summary>How many descriptors the keeper holds: the outputs, the stdin, the stdin's tally
    /// (<see cref="Guest.InputTally"/>), the listener, in that order.</summary>
    public int Held => Outputs.Count + (Input ? 1 : 0) + (InputTally ? 1 : 0) + (Listener ? 1 : 0);
}

/// <summary>The state file: its shape's version, and the guests.</summary>
public sealed record SavedGuestFile(int Version, IReadOnlyList<SavedGuest?>? Guests) : Config.IVersionedState;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SavedGuestFile))]
internal sealed partial class GuestStateJsonContext : JsonSerializerContext;
