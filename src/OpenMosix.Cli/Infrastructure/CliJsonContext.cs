using System.Text.Json.Serialization;
using OpenMosix.Cli.Commands;

namespace OpenMosix.Cli.Infrastructure;

internal sealed record CantMoveJson(int Pid, bool CanMove, IReadOnlyList<string> Reasons);

/// <summary>Source-generated JSON for everything `om --json` prints (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CantMoveJson))]
[JsonSerializable(typeof(ImageInfo))]
[JsonSerializable(typeof(List<OpenMosix.Simulator.SimulationReport>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
