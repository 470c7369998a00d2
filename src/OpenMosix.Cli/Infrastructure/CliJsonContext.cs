using System.Text.Json.Serialization;
using OpenMosix.Cli.Commands;
using OpenMosix.Cli.Commands.Cluster;
using OpenMosix.Cli.Commands.Lab;

namespace OpenMosix.Cli.Infrastructure;

internal sealed record CantMoveJson(int Pid, bool CanMove, IReadOnlyList<string> Reasons, IReadOnlyList<string> Forwarded);

/// <summary>mosctl isup --json.</summary>
internal sealed record NodeUpJson(int Node, bool Up);

/// <summary>mosctl whois --json: the node asked about, by id or address.</summary>
internal sealed record WhoisJson(int Node, string Address);

/// <summary>om checkpoint --json: what the stderr line says, as data.</summary>
internal sealed record CheckpointJson(int Pid, string? Output, int Regions, int Descriptors, ulong PageBytes, double FrozenMs, bool Killed);

/// <summary>om checkpoint --tree --json: what the tree's directory holds.</summary>
internal sealed record TreeCheckpointJson(int Pid, string Output, int Processes, int Exited, int SharedPipes, ulong PageBytes, double FrozenMs, bool Killed);

/// <summary>om restore --detach --json: the PID the process runs as now, and the one it had when its image was taken.</summary>
internal sealed record RestoredJson(int Pid, int OriginalPid);

/// <summary>om dashboard --json: the dashboard's URL with root's token, and the file the token was read from.</summary>
internal sealed record DashboardJson(string Url, string TokenFile);

/// <summary>Source-generated JSON for everything `om --json` prints (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CantMoveJson))]
[JsonSerializable(typeof(NodeUpJson))]
[JsonSerializable(typeof(WhoisJson))]
[JsonSerializable(typeof(CheckpointJson))]
[JsonSerializable(typeof(TreeCheckpointJson))]
[JsonSerializable(typeof(ImageInfo))]
[JsonSerializable(typeof(List<OpenMosix.Simulator.SimulationReport>))]
[JsonSerializable(typeof(RestoredJson))]
[JsonSerializable(typeof(DashboardJson))]
[JsonSerializable(typeof(MapCheckJson))]
[JsonSerializable(typeof(KeyringJson))]
[JsonSerializable(typeof(CertificateJson))]
[JsonSerializable(typeof(LabFaultJson))]
[JsonSerializable(typeof(LabDownJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
