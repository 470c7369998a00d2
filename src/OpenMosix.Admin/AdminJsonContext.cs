using System.Text.Json.Serialization;

namespace OpenMosix.Admin;

/// <summary>Source-generated JSON for the admin API (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
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
[JsonSerializable(typeof(AdoptRequest))]
[JsonSerializable(typeof(ManageView))]
[JsonSerializable(typeof(SwitchChange))]
[JsonSerializable(typeof(NodeSwitchList))]
[JsonSerializable(typeof(BringResult))]
[JsonSerializable(typeof(ExpelResult))]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(MigrationResult))]
[JsonSerializable(typeof(TuneList))]
[JsonSerializable(typeof(DecaySetting))]
[JsonSerializable(typeof(DecayChange))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
