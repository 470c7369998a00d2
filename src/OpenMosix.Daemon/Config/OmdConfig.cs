using System.Net;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Daemon.Migration.Guest;

namespace OpenMosix.Daemon.Config;

/// <summary>
/// Everything omd can be told in /etc/openmosix/omd.toml. Each property documents its key and default; docs/omd.md
/// lists the same. A missing file means all defaults; an unknown key is an error (a typo must not pass silently).
/// </summary>
public sealed record OmdConfig
{
    public const string DefaultPath = "/etc/openmosix/omd.toml";

    /// <summary>node.id: this node's id, 1-65535; 0 = the map entry whose address is one of this machine's.</summary>
    public ushort NodeId { get; init; }
    /// <summary>node.address: the address peers reach this node at; empty = from the map, else the first IPv4.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>paths.map: the cluster map read at start (absent, or "": wait for setpe or omdiscd).</summary>
    public string MapPath { get; init; } = "/etc/openmosix.map";
    /// <summary>paths.key: the cluster keyring that encrypts and authenticates gossip and discovery (docs/gossip.md).</summary>
    public string KeyPath { get; init; } = "/etc/openmosix/cluster.key";
    /// <summary>paths.tls_dir: node.crt, node.key (0600) and ca.crt, this node's identity on node links (om ca).</summary>
    public string TlsDirectory { get; init; } = OpenMosix.Cluster.Security.TlsFiles.DefaultDirectory;
    /// <summary>paths.socket: the admin API socket.</summary>
    public string SocketPath { get; init; } = OpenMosix.Admin.AdminPaths.DefaultSocket;
    /// <summary>paths.state_dir: what omd keeps across restarts (the mosctl switches), created 0700 when first needed.</summary>
    public string StateDirectory { get; init; } = "/var/lib/openmosix";

    /// <summary>checkpoint.interval_ms: how often a process of this node running away is checkpointed home (0 = never;
    /// otherwise at least 1000). The default keeps the work lost to a crash of its node under 30 s.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>checkpoint.dir: where home keeps those checkpoints (0700); default state_dir/checkpoints.</summary>
    public string CheckpointDirectory { get; init; } = "/var/lib/openmosix/checkpoints";

    /// <summary>checkpoint.test_hold_file, for tests only: while this file exists, a copy frozen here for a checkpoint
    /// (or its trip home) is held frozen (at most a minute), so that a test can signal it meanwhile. Null: never.</summary>
    public string? CheckpointTestHoldFile { get; init; }

    /// <summary>checkpoint.test_hold_after_image_file, for tests only: while this file exists, a process whose image
    /// this node has read for a move that succeeded is held frozen (at most a minute) before it is let go of here
    /// (the original before it becomes a deputy, a copy before it is killed), so that a test can signal it in that
    /// window. Null: never.</summary>
    public string? CheckpointTestHoldAfterImageFile { get; init; }

    /// <summary>checkpoint.test_hold_before_end_file, for tests only: while this file exists, a copy that went home (or
    /// on, through home) is held frozen (at most a minute) just before its node ends it, after everything else about
    /// its trip is done, so that a test can signal it in the last moment it can still be signalled. Null: never.</summary>
    public string? CheckpointTestHoldBeforeEndFile { get; init; }

    /// <summary>gossip.port: UDP port for load gossip, the same on every node.</summary>
    public int GossipPort { get; init; } = 5723;
    /// <summary>gossip.interval_ms, gossip.fanout, gossip.suspect_after_ms, gossip.dead_after_ms, gossip.replay_window_ms.</summary>
    public GossipOptions Gossip { get; init; } = new();
    /// <summary>
    /// gossip.origin_signatures: "required" (every node signs its own entries with its certificate's key and only
    /// signed entries are taken), "off", or "auto" (required when tls_dir holds node.crt, off otherwise).
    /// </summary>
    public string OriginSignatures { get; init; } = "auto";

    /// <summary>load.half_life_ms: how fast the load average forgets (like the kernel's 1-minute average, but faster).</summary>
    public TimeSpan LoadHalfLife { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>speed.override: a fixed speed instead of calibrating (0 = calibrate).</summary>
    public uint SpeedOverride { get; init; }
    /// <summary>speed.calibration_ms: CPU time spent measuring speed at start.</summary>
    public TimeSpan Calibration { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>discovery.group, discovery.port: where omdiscd announces (every node of a cluster must agree).</summary>
    public IPAddress DiscoveryGroup { get; init; } = IPAddress.Parse("239.255.77.23");
    public int DiscoveryPort { get; init; } = 5724;
    /// <summary>discovery.interval_ms: how often omdiscd announces this node.</summary>
    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>discovery.forget_after_ms: a node silent this long leaves the discovered map.</summary>
    public TimeSpan DiscoveryForgetAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>migration.port: TCP port for node links (migrations and the stdio/signal relay of moved processes).</summary>
    public int MigrationPort { get; init; } = 5725;
    /// <summary>migration.precopy: copy a process's memory while it runs and freeze it only for what changed since.</summary>
    public bool Precopy { get; init; } = true;
    /// <summary>migration.precopy_rounds: most rounds before the freeze (fewer when the changes stop shrinking).</summary>
    public int PrecopyRounds { get; init; } = 4;
    /// <summary>migration.postcopy: auto (when pre-copy would not converge), never or always (docs/migration.md).</summary>
    public Migration.Postcopy.PostcopyMode Postcopy { get; init; } = Migration.Postcopy.PostcopyMode.Auto;
    /// <summary>migration.bandwidth_limit_mib_s: MiB/s one move's image and its post-copy background fetch take at
    /// most (faults are never held back); 0: no limit.</summary>
    public int BandwidthLimit { get; init; }
    /// <summary>The highest limit: far above any link, and small enough that a frame's time at the limit is never 0.</summary>
    public const int MaxBandwidthLimit = 1_000_000;

    /// <summary>link.record_ciphers: the ciphers this node's links may carry their records under, in the order it chooses
    /// by on the links it accepts (the dialling node takes that choice); default all three, fastest first. Those this
    /// process cannot run (AEGIS without libsodium) are left out at start, with a warning.</summary>
    public IReadOnlyList<OpenMosix.Cluster.Transport.RecordCipher> RecordCiphers { get; init; } = OpenMosix.Cluster.Transport.RecordCiphers.Preference;

    /// <summary>link.protocol_versions: the node protocol versions this node says it speaks ("6-7"), default all this build
    /// speaks. For tests only: an older range makes the node stand for one of an older version (ProtocolRange).</summary>
    public OpenMosix.Cluster.Transport.ProtocolRange ProtocolVersions { get; init; } = OpenMosix.Cluster.Transport.ProtocolRange.Current;

    /// <summary>liveness.heartbeat_interval_ms: a node link with nothing to send for this long sends a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = OpenMosix.Cluster.Transport.LinkLiveness.DefaultInterval;
    /// <summary>liveness.link_timeout_ms: a node link silent this long is dead (at least 3 heartbeat intervals; docs/reliability.md).</summary>
    public TimeSpan LinkTimeout { get; init; } = OpenMosix.Cluster.Transport.LinkLiveness.DefaultTimeout;
    /// <summary>liveness.takeover_window_ms: how long a guest whose home's omd died (its node still up) waits, stopped,
    /// for a new omd there to take it over, and how long a new omd tries to reach the nodes of its processes away.</summary>
    public TimeSpan TakeoverWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>migration.guest_uids (default "1000-60000"), migration.guest_uids_from.N (node N's own list) and
    /// migration.allow_root_guests (default false): whose processes other nodes may send here, and whether root's move
    /// at all, here or from here (<see cref="GuestPolicy"/>).</summary>
    public GuestPolicy Guests { get; init; } = GuestPolicy.Default;

    /// <summary>balance.enabled: move processes to where they run fastest, and away from a node short of memory.</summary>
    public bool Balance { get; init; } = true;
    /// <summary>balance.interval_ms: how often the balancer decides.</summary>
    public TimeSpan BalanceInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>balance.margin, cost_factor, link_mb_per_second, move_overhead_ms, min_demand, cooldown_ms,
    /// max_out_per_round, max_in_per_round, usher_below_free_percent, keep_free_percent (docs/balancing.md).</summary>
    public BalancerOptions Balancer { get; init; } = new();
    /// <summary>balance.slow_half_life_ms, balance.fast_half_life_ms: how fast a process's CPU demand forgets its past
    /// (the half-lives at start; mosctl setdecay changes them while omd runs).</summary>
    public DecayRates Decay { get; init; } = DecayRates.Default;

    /// <summary>web.listen: where the web listener (/metrics, the dashboard) takes connections, "address:port";
    /// "" = no listener. TLS with this node's certificate unless the address is a loopback one.</summary>
    public IPEndPoint? WebListen { get; init; } = new(IPAddress.Loopback, DefaultWebPort);
    public const int DefaultWebPort = 5726;

    /// <summary>shutdown.drain_timeout_ms: on SIGTERM or SIGINT, how long omd may spend bringing its own processes home
    /// and sending its guests home before it stops (0 = no drain: they are lost). The service managers' stop waits
    /// (omd.service TimeoutStopSec, the init script) exceed the default.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>log.level: trace, debug, information, warning, error.</summary>
    public string LogLevel { get; init; } = "information";

    /// <summary>[files] home_paths: directories whose files are this node's own; a process from here that moves uses
    /// them at home, through its deputy (docs/forwarding.md#home-files).</summary>
    public IReadOnlyList<string> HomePaths { get; init; } = [];

    /// <summary>[forwarding] sockets_created_away: "home" (the default, as in openMosix) makes the internet sockets a
    /// process from here creates while away at home, through its deputy, so it reaches what home reaches with home's
    /// address; "node": they are the node's where it runs (docs/forwarding.md#sockets-created-away).</summary>
    public string SocketsCreatedAway { get; init; } = "home";

    /// <summary>[manage]: candidates from birth (<see cref="Processes.ManagePolicy"/>).</summary>
    public IReadOnlyList<string> ManageUsers { get; init; } = [];
    public IReadOnlyList<string> ManageCgroups { get; init; } = [];
    public IReadOnlyList<string> ManagePrograms { get; init; } = [];
}
