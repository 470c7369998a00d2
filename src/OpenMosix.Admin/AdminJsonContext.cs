using System.Text.Json.Serialization;

namespace OpenMosix.Admin;

/// <summary>
/// Source-generated JSON for the admin API (NativeAOT has no reflection serializer). Strict: a field left out or null
/// where the contract has no null is a JsonException (HTTP 400), not a null a route would follow into a 500.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(NodeRow))]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(MapView))]
[JsonSerializable(typeof(MapUpload))]
[JsonSerializable(typeof(MapChange))]
[JsonSerializable(typeof(SpeedSetting))]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(GossipStats))]
[JsonSerializable(typeof(ErrorReply))]
[JsonSerializable(typeof(ProcessRow))]
[JsonSerializable(typeof(ProcessList))]
[JsonSerializable(typeof(MigrateRequest))]
[JsonSerializable(typeof(TreeMigrationResult))]
[JsonSerializable(typeof(AdoptRequest))]
[JsonSerializable(typeof(SignalRequest))]
[JsonSerializable(typeof(ManageView))]
[JsonSerializable(typeof(SwitchChange))]
[JsonSerializable(typeof(NodeSwitchList))]
[JsonSerializable(typeof(BringResult))]
[JsonSerializable(typeof(ExpelResult))]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(MigrationResult))]
[JsonSerializable(typeof(MigrationEvent))]
[JsonSerializable(typeof(TuneList))]
[JsonSerializable(typeof(DecaySetting))]
[JsonSerializable(typeof(DecayChange))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
