namespace OpenMosix.Lab;

/// <summary>What `om lab up` was asked for, already checked.</summary>
public sealed record LabSpec(LabName Name, IReadOnlyList<NodeResources> Nodes, bool Discovery, bool StartDaemons, TimeSpan ReadyTimeout)
{
    /// <summary>Whether the nodes' omd balance load on their own (off: processes move only when told).</summary>
    public bool Balance { get; init; } = true;

    /// <summary>A lab checkpoints processes running away every 5 s (omd's default is 20 s), so that a test of a crash
    /// need not wait long for the first one.</summary>
    public const int DefaultCheckpointIntervalMs = 5000;

    /// <summary>checkpoint.interval_ms of every node's omd (0: no periodic checkpoints).</summary>
    public int CheckpointIntervalMs { get; init; } = DefaultCheckpointIntervalMs;

    /// <summary>migration.postcopy of every node's omd (auto, never, always); null: omd's default.</summary>
    public string? Postcopy { get; init; }

    /// <summary>migration.precopy_rounds of every node's omd; null: omd's default.</summary>
    public int? PrecopyRounds { get; init; }

    /// <summary>migration.bandwidth_limit_mib_s of every node's omd; null: omd's default (no limit).</summary>
    public int? BandwidthLimit { get; init; }

    /// <summary>The highest bandwidth limit omd takes (OmdConfig.MaxBandwidthLimit: the lab does not reference omd).</summary>
    public const int MaxBandwidthLimit = 1_000_000;

    public static readonly IReadOnlyList<string> PostcopyModes = ["auto", "never", "always"];

    /// <summary>.254 is the bridge's own address, so a lab has at most 253 nodes.</summary>
    public const int MaxNodes = 253;
}

/// <summary>A node's share of the machine: CPUs as a CFS quota, and an optional memory limit.</summary>
public sealed record NodeResources(double Cpus, long? MemoryLimitBytes);
