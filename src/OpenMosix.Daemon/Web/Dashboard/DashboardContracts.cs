using System.Text.Json.Serialization;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>A node's readings, oldest first, as three arrays of equal length (compact for the page to draw).</summary>
public sealed record NodeHistoryView(int Id, IReadOnlyList<long> AtMs, IReadOnlyList<double> Load, IReadOnlyList<long> UsedMemory);

/// <summary>GET /api/history: every node's readings; Version counts the readings taken, to tell when to fetch again.</summary>
public sealed record HistoryView(long IntervalMs, long Version, IReadOnlyList<NodeHistoryView> Nodes);

/// <summary>A move in GET /api/migrations: Result is "moved" or "failed" (then Error says why).</summary>
public sealed record MigrationEntry(long AtMs, int Pid, string Command, int From, int To, string Result, string Error,
    long FrozenMs, long ImageBytes);

public sealed record MigrationList(IReadOnlyList<MigrationEntry> Migrations);

/// <summary>What the page shows at once, sent every second on GET /api/events (and at GET /api/snapshot).</summary>
public sealed record DashboardSnapshot(ClusterView Cluster, ProcessList Processes, IReadOnlyList<MigrationEntry> Migrations,
    long HistoryVersion);

/// <summary>GET /api/session: whether the bearer token sent is root's (the page then lets processes be dragged).</summary>
public sealed record DashboardSession(bool CanMove);

/// <summary>POST /api/procs/{pid}/migrate: the node to move the process to.</summary>
public sealed record MoveOrder(int Node);

/// <summary>Source-generated JSON for the dashboard (NativeAOT has no reflection serializer); strict like the admin API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(ProcessList))]
[JsonSerializable(typeof(HistoryView))]
[JsonSerializable(typeof(MigrationList))]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(DashboardSession))]
[JsonSerializable(typeof(MoveOrder))]
[JsonSerializable(typeof(ErrorReply))]
public sealed partial class DashboardJsonContext : JsonSerializerContext;
