using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Map;
using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Gossip;
using OpenMosix.Daemon.Measurement;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Web;
using OpenMosix.Daemon.Web.Dashboard;
using OpenMosix.Daemon.Web.Metrics;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// omd's life: read the key and the map, measure the node, open the admin socket and the gossip port, take back the
/// processes the previous omd managed, serve until told to stop (SIGTERM), drain (<see cref="ShutdownDrain"/>), save
/// the processes it manages for the next omd, then close everything and remove the socket. Start-up errors are thrown
/// before anything is opened.
/// </summary>
public static partial class OmdHost
{
    public static async Task RunAsync(OmdConfig config, ILoggerFactory loggers, OmdShutdown shutdown)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(shutdown);
        // The services stop once the drain is over, or at once on a second request.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Immediate);
        var cancel = stopping.Token;
        var logger = loggers.CreateLogger("omd");
        var startedAt = DateTimeOffset.UtcNow;
        // A node crowded with the CPU-bound jobs omd is about to move away must not starve the moves themselves.
        // Processes omd restores take their own nice value back (it travels in their image).
        try
        {
            Niceness.SetForThisProcess(DaemonNice);
        }
        catch (SyscallException e)
        {
            LogNiceRefused(logger, DaemonNice, e.Message);
        }

        var keyring = new KeyringWatcher(config.KeyPath, logger);
        // Gossip and discovery follow the ring as it rotates; node links authenticate with certificates (NodeTls).
        using var origins = OriginKeysLoader.Load(config.TlsDirectory, config.OriginSignatures, () => DateTimeOffset.UtcNow);
        var nodeId = config.NodeId;
        if (origins is not null)
        {
            if (nodeId != 0 && nodeId != origins.OwnNode)
                throw new DaemonStartException($"{Path.Join(config.TlsDirectory, "node.crt")} is for node {origins.OwnNode}, but this is node {nodeId}: " +
                    $"`om ca issue {nodeId} --address {config.Address?.ToString() ?? "ADDRESS"}` makes one for it");
            nodeId = origins.OwnNode;
        }
        var map = File.Exists(config.MapPath) ? ClusterMap.Load(config.MapPath) : null;

        var cgroup = CgroupV1.OfSelf();
        var speed = config.SpeedOverride != 0 ? config.SpeedOverride : SpeedCalibrator.Measure(config.Calibration);
        var resources = LocalSampler.Discover(cgroup, speed);
        var sampler = new LocalSampler(cgroup, resources, config.LoadHalfLife);
        var first = sampler.Sample();
        var initial = new LoadVector(0, IPAddress.Any, NodeState.Alive, first.Load, resources.Speed, (ushort)resources.Cpus,
            resources.Capacity, first.TotalMemory, first.FreeMemory, NodeFlags.None, 0);
        var cluster = new ClusterState(keyring.Current, origins, config.Gossip, nodeId, config.Address, NodeIdentity.LocalAddresses,
            initial, startedAt);
        if (map is not null)
            cluster.LoadMap(map, config.MapPath, startedAt);
        using var credentials = NodeTls.Load(config.TlsDirectory, cluster.Identity, logger);
        var (offered, leftOut) = LinkSettings.Split(config.RecordCiphers, RecordCiphers.Supported);
        if (offered.Count == 0)
            throw new DaemonStartException($"link.record_ciphers: this node can run none of {RecordCiphers.Describe(config.RecordCiphers)} ({RecordCiphers.Missing})");
        var links = new LinkSecurity(credentials, cluster.AddressOf)
        {
            CipherOrder = offered,
            Versions = config.ProtocolVersions,
            VersionsHeard = cluster.HeardVersions,
            LocalAddress = () => LinkSourceAddress(cluster.Identity.Address),
        };
        cluster.OwnVersions = config.ProtocolVersions;
        LogLinkVersions(logger, config.ProtocolVersions.Describe());
        // A missing or broken libsodium costs AEGIS only: one warning, and the links run under AES-128-GCM.
        if (leftOut.Count == 0) LogLinkCiphers(logger, RecordCiphers.Describe(offered));
        else LogLinkCiphersWithout(logger, RecordCiphers.Describe(offered), RecordCiphers.Missing ?? "", RecordCiphers.Describe(leftOut));

        var linkLogger = loggers.CreateLogger("link");
        var liveness = new LinkLiveness(config.HeartbeatInterval, config.LinkTimeout)
        {
            DeclaredDead = node => cluster.HoldsDead(node, DateTimeOffset.UtcNow),
            Died = (node, reason) => LogLinkDead(linkLogger, node, reason),
        };
        using var engine = new CheckpointEngine(loggers)
        {
            TrimWhenIdle = TimeSpan.FromSeconds(3), HomePaths = new Checkpoint.CantMove.HomePaths(config.HomePaths),
            BeforeEnd = HoldWhileFileExists(config.CheckpointTestHoldBeforeEndFile, "went on from here, about to be ended", "test_hold_before_end_file", logger),
        };
        var switches = new NodeSwitches(new SwitchFile(config.StateDirectory, logger));
        var decay = new DecaySettings(config.Decay);
        using var deputies = new EngineDeputies(engine);
        var processes = new ProcessRegistry(cluster.Identity.Id);
        var migrating = new EngineMigration(engine)
        {
            WhileFrozen = HoldWhileFileExists(config.CheckpointTestHoldFile, "frozen for a checkpoint", "test_hold_file", logger),
            AfterImage = HoldWhileFileExists(config.CheckpointTestHoldAfterImageFile, "frozen, its image read", "test_hold_after_image_file", logger),
        };
        var gate = new StopGate();
        var moves = new MigrationHistory();
        var migrations = new MigrationCounters();
        var migration = new HomeMigration(migrating, deputies, processes, () => cluster.Identity.Id,
            node => cluster.AddressOf(node) is { } address ? new IPEndPoint(address, config.MigrationPort) : null,
            () => cluster.View(DateTimeOffset.UtcNow), links, loggers.CreateLogger("migration"))
        {
            Precopy = config.Precopy,
            HomePaths = config.HomePaths,
            SocketsAtHome = config.SocketsCreatedAway == "home",
            PrecopyRounds = config.PrecopyRounds,
            Postcopy = config.Postcopy,
            BandwidthLimit = config.BandwidthLimit,
            LinkBytesPerSecond = config.Balancer.LinkBytesPerSecond,
            AllowRoot = config.Guests.AllowRoot,
            LocalMemory = sampler.ReadMemory,
            KeepFreeFraction = config.Balancer.KeepFreeFraction,
            RestartPlacement = config.Balance ? config.Balancer : null,
            MoveEnded = moves.Record,
            Counters = migrations,
            Liveness = liveness,
            Gate = gate,
        };
        try
        {
            migration.EnableCheckpoints(config.CheckpointInterval, config.CheckpointDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DaemonStartException($"checkpoint.dir {config.CheckpointDirectory}: {e.Message}");
        }
        migration.Start();
        // A guest's home asks this node to move what the guest forked here: this node's own processes, moved as such.
        Task<MigrationResult> MoveOwn(ManagedProcess process, string target, bool? precopy) =>
            migration.MoveAsync(process, target, CancellationToken.None, precopy);
        var guests = new GuestDirectory();
        var reservations = new MemoryReservations();
        var resumes = new Migration.Guest.GuestResumes();
        var guestKeeping = Migration.Guest.GuestKeeping.For(Environment.ProcessPath,
            new Migration.Guest.GuestStateFile(Path.GetDirectoryName(config.SocketPath) ?? "/run/openmosix", loggers.CreateLogger("guest")), config.TakeoverWindow);
        using var listener = new MigrationListener(config.MigrationPort, () => cluster.Identity.Id, links,
            (link, stop) => new GuestSession(link, migrating, processes, () => sampler.ReadMemory().Free, loggers.CreateLogger("guest"))
            {
                Blocked = () => switches.Blocked,
                Directory = guests,
                Reservations = reservations,
                CheckpointConditions = new(sampler.ReadMemory, config.Balancer.UsherBelowFreeFraction),
                Policy = config.Guests,
                Counters = migrations,
                Gate = gate,
                Resumes = resumes,
                TakeoverWindow = config.TakeoverWindow,
                Keeping = guestKeeping,
                HomeEndpoint = node => cluster.AddressOf(node) is { } address ? new IPEndPoint(address, config.MigrationPort) : null,
                MoveForked = MoveOwn,
                BandwidthLimit = config.BandwidthLimit,
            }.RunAsync(stop),
            logger) { Liveness = liveness };
        var balancer = config.Balance
            ? new BalanceLoop(migration, processes, migrating, () => cluster.Identity.Id, () => cluster.View(DateTimeOffset.UtcNow),
                sampler.ReadMemory, guests, config.Balancer, config.LoadHalfLife, loggers.CreateLogger("balancer")) { Switches = switches, Decay = decay }
            : null;
        var execPlacement = balancer is null ? null : new ChildPlacement(processes, balancer.Started, migration.PlaceAfterExec,
            () => balancer.SmallMoveCost, MonotonicClock.Now, config.Balancer, loggers.CreateLogger("placement"));
        ManagePolicy policy;
        try
        {
            policy = new ManagePolicy(config.ManageUsers, config.ManageCgroups, config.ManagePrograms, UserDatabase.UidOf);
        }
        catch (ArgumentException e)
        {
            throw new DaemonStartException($"[manage] users: {e.Message.Split(" (Parameter", 2)[0]}");
        }
        var manage = new ManageSettings(policy);
        using var descendants = new DescendantTracker(processes, loggers.CreateLogger("processes"))
        {
            Policy = () => manage.Current,
            Execed = execPlacement is null ? null : process => execPlacement.Execed(process),
            Ended = execPlacement is null ? null : execPlacement.Ended,
        };
        descendants.Start();
        var routes = new AdminRoutes(cluster, sampler, startedAt, processes, migration, switches, config, decay, guests, manage)
        {
            Started = balancer is null ? null : balancer.Started,
        };
        using var admin = new AdminServer(config.SocketPath, routes, logger);
        using var gossip = new GossipTransport(cluster, sampler, () => switches.Current, config.GossipPort, logger) { Keys = keyring };
        // SIGHUP rereads the keyring (the file is also watched); without a handler it would end omd.
        using var hangup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP,
            context =>
            {
                context.Cancel = true;
                keyring.RequestReload();
            });
        var identity = cluster.Identity;
        // The socket first: a second omd is told so, rather than that the gossip port is taken.
        admin.Bind();
        gossip.Bind(identity.Address, NodeIdentity.LocalAddresses());
        // Guests the last omd left when it died without a drain, adopted before any home can ask for them.
        var adoption = guestKeeping is null ? null
            : new Migration.Guest.GuestAdoption(migrating, processes, resumes, guestKeeping, loggers.CreateLogger("guest"))
            {
                CheckpointConditions = new(sampler.ReadMemory, config.Balancer.UsherBelowFreeFraction),
                Directory = guests,
                MoveForked = MoveOwn,
                HomeEndpoint = node => cluster.AddressOf(node) is { } address ? new IPEndPoint(address, config.MigrationPort) : null,
            };
        if (adoption?.Prepare() > 0) _ = Task.Run(() => adoption.RunAsync(cancel), CancellationToken.None);
        listener.Bind(LinkSourceAddress(identity.Address) ?? IPAddress.Any);
        // Only once this omd owns the socket: a second one, refused above, must not touch the first one's files.
        var runDirectory = Path.GetDirectoryName(config.SocketPath) ?? "/run/openmosix";
        var managedState = new ManagedStateFile(runDirectory, loggers.CreateLogger("processes"));
        // Children they forked while no omd ran are found in /proc.
        if (managedState.TakeBack(processes) > 0) descendants.Rescan();
        // Processes away the last omd left when it died without a drain: taken over while the rest starts.
        migration.EnableTakeover(runDirectory, loggers.CreateLogger("migration"));
        var takeover = Task.Run(() => migration.TakeOverAsync(config.TakeoverWindow), CancellationToken.None);
        using var procView = new ProcView(Path.Join(runDirectory, "proc"), processes,
            (process, target) => migration.MoveAsync(process, target, CancellationToken.None), loggers.CreateLogger("proc"))
        {
            MoveGuest = (pid, target) => guests.RequestMoveAsync(pid, target, "migrate file"),
            LockChanged = migration.LockChanged,
        };
        using var hpc = new HpcTree(Path.Join(runDirectory, "hpc"), cluster, sampler, switches, decay, routes, loggers.CreateLogger("hpc"));
        // The web dashboard's sources (the web listener maps them); root's token for its moves is made anew each start.
        using var dashboardToken = DashboardToken.Create(runDirectory);
        var dashboard = DashboardSources.Of(cluster, processes, routes, new NodeHistory(), moves, dashboardToken);
        LogStarted(logger, identity.Id, identity.Address.ToString(), resources.Speed, resources.EffectiveCpus,
            resources.Capacity, resources.TotalMemory >> 20, map?.Count ?? 0);
        LogMigrationSettings(logger, config.MigrationPort, config.Precopy ? $"up to {config.PrecopyRounds} rounds" : "off",
            config.Postcopy switch
            {
                Migration.Postcopy.PostcopyMode.Auto => "auto",
                Migration.Postcopy.PostcopyMode.Never => "never",
                _ => "always",
            }, config.BandwidthLimit > 0 ? $"{config.BandwidthLimit} MiB/s" : "none");
        LogGossipSecurity(logger, string.Join(',', keyring.Current.Secrets.Select(s => s.Id)),
            origins is null ? "unsigned (no certificate)" : "signed by origin (required)");
        if (!cluster.InCluster)
            LogNotInCluster(logger, config.MapPath);

        // The balancer stops when the drain begins: it would only be refused.
        var clock = new NodeClock(loggers.CreateLogger("clock"));
        if (balancer is not null)
            clock.Every("balancing", BalanceLoop.TickPeriod(config.BalanceInterval), () =>
            {
                if (!shutdown.Requested.IsCancellationRequested) balancer.Tick(config.BalanceInterval);
            });
        clock.Every("gossip", config.Gossip.Interval, gossip.Round);
        clock.Every("proc view", TimeSpan.FromSeconds(1), procView.Refresh);
        clock.Every("hpc view", TimeSpan.FromSeconds(1), hpc.Refresh);
        clock.Every("dashboard history", dashboard.History.Interval, () => dashboard.History.Record(dashboard.Cluster(), DateTimeOffset.UtcNow));
        // Started beside the rest, never before it: omd is ready (its socket answers) whatever the listener does.
        var sources = new WebSources(() => cluster.View(DateTimeOffset.UtcNow), processes, cluster.Stats, migrations, startedAt);
        var web = config.WebListen is { } endpoint
            ? Task.Run(() => new WebListener(endpoint, credentials.Certificate, loggers,
                routes => WebEndpoints.Map(routes.MapDashboard(dashboard), sources)).RunAsync(cancel))
            : Task.CompletedTask;
        var services = Task.WhenAll(admin.RunAsync(cancel), gossip.RunAsync(cancel), listener.RunAsync(cancel), clock.RunAsync(cancel), web, takeover);
        await Task.WhenAny(services, Task.Delay(Timeout.Infinite, shutdown.Requested)).ConfigureAwait(false);
        if (!services.IsCompleted)
        {
            // Everything still serves while the drain runs: the links it moves processes over, and `om ps`.
            await new ShutdownDrain(migration, processes, guests, gate, loggers.CreateLogger("shutdown"))
                {
                    Waiting = pid => adoption?.Waiting(pid) == true,
                    LeftToKeeper = pid => adoption?.Holds(pid) == true,
                }
                .RunAsync(config.DrainTimeout, shutdown.Immediate).ConfigureAwait(false);
            if (adoption is not null) await adoption.StopForNextOmdAsync().ConfigureAwait(false);
            managedState.Save(processes);
            await stopping.CancelAsync().ConfigureAwait(false);
        }
        await services.ConfigureAwait(false);
        LogStopped(logger);
    }

    /// <summary>This node's own address when it is one of this machine's: links are bound to it, so that they leave
    /// from the address the map and this node's certificate give (the peers check both).</summary>
    private static IPAddress? LinkSourceAddress(IPAddress address) =>
        IPAddress.IsLoopback(address) || NodeIdentity.LocalAddresses().Contains(address) ? address : null;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "omd started: node {Node} at {Address}, speed {Speed}, {Cpus} CPUs, capacity {Capacity}, {MemoryMiB} MiB, map of {MapNodes} nodes")]
    private static partial void LogStarted(ILogger logger, ushort node, string address, uint speed, double cpus, uint capacity,
        ulong memoryMiB, int mapNodes);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "migrations: port {Port}, pre-copy {Precopy}, post-copy {Postcopy}, bandwidth limit {Limit}")]
    private static partial void LogMigrationSettings(ILogger logger, int port, string precopy, string postcopy, string limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "link with node {Node} declared dead: {Reason}")]
    private static partial void LogLinkDead(ILogger logger, ushort node, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "not in a cluster: no map at {MapPath} lists this node; waiting for `setpe -w` or omdiscd")]
    private static partial void LogNotInCluster(ILogger logger, string mapPath);

    /// <summary>checkpoint.test_hold_file, test_hold_after_image_file and test_hold_before_end_file (tests only): a process
    /// frozen at that <paramref name="moment"/> (for a checkpoint; its image read for a move that succeeded; a copy that
    /// went on, about to be ended) is held frozen here
    /// while the file exists, at most a minute, and omd says so, so that a test can signal it just then.</summary>
    private static Action<int>? HoldWhileFileExists(string? file, string moment, string key, ILogger logger) => file is null ? null : pid =>
    {
        if (!File.Exists(file)) return;
        LogHeld(logger, pid, moment, file, key);
        var until = Environment.TickCount64 + 60_000;
        while (File.Exists(file) && Environment.TickCount64 < until) Thread.Sleep(10);
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} {Moment}, held while {File} exists (checkpoint.{Key})")]
    private static partial void LogHeld(ILogger logger, int pid, string moment, string file, string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "node links speak node protocol {Versions}")]
    private static partial void LogLinkVersions(ILogger logger, string versions);

    [LoggerMessage(Level = LogLevel.Information, Message = "node link records offered under {Ciphers}")]
    private static partial void LogLinkCiphers(ILogger logger, string ciphers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node link records offered under {Ciphers} ({Missing}: no {LeftOut})")]
    private static partial void LogLinkCiphersWithout(ILogger logger, string ciphers, string missing, string leftOut);

    [LoggerMessage(Level = LogLevel.Information, Message = "gossip encrypted under keys {Ids}; entries {Signing}")]
    private static partial void LogGossipSecurity(ILogger logger, string ids, string signing);

    /// <summary>omd's own nice value: ahead of the jobs on its node.</summary>
    public const int DaemonNice = -10;

    [LoggerMessage(Level = LogLevel.Warning, Message = "omd keeps its priority (nice {Nice} refused: {Reason}); moves from a busy node will be slow")]
    private static partial void LogNiceRefused(ILogger logger, int nice, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "omd stopped")]
    private static partial void LogStopped(ILogger logger);
}
