using System.Text.Json.Serialization;

namespace OpenMosix.Lab.State;

/// <summary>Source-generated JSON for the state file and `om lab status --json` (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LabState))]
[JsonSerializable(typeof(LabStatus))]
[JsonSerializable(typeof(IReadOnlyList<LabStatus>))]
public sealed partial class LabJsonContext : JsonSerializerContext;
