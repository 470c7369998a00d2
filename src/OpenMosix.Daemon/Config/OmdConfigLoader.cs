using System.Net;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Daemon.Migration.Guest;

namespace OpenMosix.Daemon.Config;

/// <summary>Reads omd.toml into an <see cref="OmdConfig"/>, checking every key's type and range.</summary>
public static class OmdConfigLoader
{
    private static readonly string[] LogLevels = ["trace", "debug", "information", "warning", "error"];

    /// <summary>Loads <paramref name="path"/>; a missing file is only an error when the user named it.</summary>
    public static OmdConfig Load(string? path)
    {
        var file = path ?? OmdConfig.DefaultPath;
        if (!File.Exists(file))
            return path is null ? new OmdConfig() : throw new ConfigException($"{file}: no such file");
        return Parse(File.ReadAllText(file), file);
    }

    public static OmdConfig Parse(string text, string fileName)
    {
        var values = TomlKeys.Parse(text, fileName);
        var reader = new Reader(values, fileName);
        var defaults = new OmdConfig();
        var gossip = new GossipOptions
        {
            Interval = reader.Milliseconds("gossip.interval_ms", defaults.Gossip.Interval, 10, 60_000),
            Fanout = (int)reader.Integer("gossip.fanout", defaults.Gossip.Fanout, 1, 64),
            SuspectAfter = reader.Milliseconds("gossip.suspect_after_ms", defaults.Gossip.SuspectAfter, 50, 86_400_000),
            DeadAfter = reader.Milliseconds("gossip.dead_after_ms", defaults.Gossip.DeadAfter, 100, 86_400_000),
            ReplayWindow = reader.Milliseconds("gossip.replay_window_ms", defaults.Gossip.ReplayWindow, 1000, 86_400_000),
        };
        if (gossip.DeadAfter <= gossip.SuspectAfter)
            throw new ConfigException($"{fileName}: gossip.dead_after_ms must be greater than gossip.suspect_after_ms");
        var stateDirectory = reader.PathNear("paths.state_dir", defaults.StateDirectory);
        var config = new OmdConfig
        {
            NodeId = (ushort)reader.Integer("node.id", 0, 0, ushort.MaxValue),
            Address = reader.Address("node.address"),
            MapPath = reader.PathNear("paths.map", defaults.MapPath, allowEmpty: true),
            KeyPath = reader.PathNear("paths.key", defaults.KeyPath),
            TlsDirectory = reader.PathNear("paths.tls_dir", defaults.TlsDirectory),
            SocketPath = reader.PathNear("paths.socket", defaults.SocketPath),
            StateDirectory = stateDirectory,
            CheckpointInterval = reader.Milliseconds("checkpoint.interval_ms", defaults.CheckpointInterval, 0, 86_400_000),
            CheckpointDirectory = reader.PathNear("checkpoint.dir", Path.Combine(stateDirectory, "checkpoints")),
            CheckpointTestHoldFile = reader.Has("checkpoint.test_hold_file") ? reader.PathNear("checkpoint.test_hold_file", "") : null,
            CheckpointTestHoldAfterImageFile = reader.Has("checkpoint.test_hold_after_image_file")
                ? reader.PathNear("checkpoint.test_hold_after_image_file", "") : null,
            CheckpointTestHoldBeforeEndFile = reader.Has("checkpoint.test_hold_before_end_file")
                ? reader.PathNear("checkpoint.test_hold_before_end_file", "") : null,
            GossipPort = (int)reader.Integer("gossip.port", defaults.GossipPort, 1, 65535),
            Gossip = gossip,
            OriginSignatures = reader.Choice("gossip.origin_signatures", defaults.OriginSignatures, ["auto", "required", "off"]),
            LoadHalfLife = reader.Milliseconds("load.half_life_ms", defaults.LoadHalfLife, 100, 600_000),
            SpeedOverride = (uint)reader.Integer("speed.override", 0, 0, 10_000_000),
            Calibration = reader.Milliseconds("speed.calibration_ms", defaults.Calibration, 10, 5_000),
            DiscoveryGroup = reader.Multicast("discovery.group") ?? defaults.DiscoveryGroup,
            DiscoveryPort = (int)reader.Integer("discovery.port", defaults.DiscoveryPort, 1, 65535),
            DiscoveryInterval = reader.Milliseconds("discovery.interval_ms", defaults.DiscoveryInterval, 50, 600_000),
            DiscoveryForgetAfter = reader.Milliseconds("discovery.forget_after_ms", defaults.DiscoveryForgetAfter, 100, 86_400_000),
            MigrationPort = (int)reader.Integer("migration.port", defaults.MigrationPort, 1, 65535),
            Precopy = reader.Boolean("migration.precopy", defaults.Precopy),
            PrecopyRounds = (int)reader.Integer("migration.precopy_rounds", defaults.PrecopyRounds, 1, 30),
            Postcopy = Migration.Postcopy.PostcopyChoice.Parse(reader.Choice("migration.postcopy", "auto", ["auto", "never", "always"])),
            RecordCiphers = reader.RecordCiphers("link.record_ciphers", defaults.RecordCiphers),
            ProtocolVersions = reader.Protocols("link.protocol_versions", defaults.ProtocolVersions),
            BandwidthLimit = (int)reader.Integer("migration.bandwidth_limit_mib_s", defaults.BandwidthLimit, 0, OmdConfig.MaxBandwidthLimit),
            HeartbeatInterval = reader.Milliseconds("liveness.heartbeat_interval_ms", defaults.HeartbeatInterval, 10, 60_000),
            LinkTimeout = reader.Milliseconds("liveness.link_timeout_ms", defaults.LinkTimeout, 50, 3_600_000),
            TakeoverWindow = reader.Milliseconds("liveness.takeover_window_ms", defaults.TakeoverWindow, 0, 3_600_000),
            Guests = Guests(reader, defaults.Guests),
            Balance = reader.Boolean("balance.enabled", defaults.Balance),
            BalanceInterval = reader.Milliseconds("balance.interval_ms", defaults.BalanceInterval, 100, 600_000),
            Balancer = Balancer(reader, defaults.Balancer, fileName),
            Decay = Decay(reader, defaults.Decay, fileName),
            WebListen = reader.Endpoint("web.listen", defaults.WebListen),
            DrainTimeout = reader.Milliseconds("shutdown.drain_timeout_ms", defaults.DrainTimeout, 0, 3_600_000),
            LogLevel = reader.Choice("log.level", defaults.LogLevel, LogLevels),
            ManageUsers = reader.TextList("manage.users"),
            ManageCgroups = reader.TextList("manage.cgroups"),
            ManagePrograms = reader.TextList("manage.programs"),
            HomePaths = reader.TextList("files.home_paths"),
            SocketsCreatedAway = reader.Choice("forwarding.sockets_created_away", defaults.SocketsCreatedAway, ["home", "node"]),
        };
        reader.RejectUnknown();
        if (config.LinkTimeout < config.HeartbeatInterval * Cluster.Transport.LinkLiveness.MinimumIntervalsPerTimeout)
            throw new ConfigException($"{fileName}: liveness.link_timeout_ms must be at least {Cluster.Transport.LinkLiveness.MinimumIntervalsPerTimeout} times liveness.heartbeat_interval_ms");
        if (config.HomePaths.Count > Checkpoint.CantMove.HomePaths.MaxPrefixes)
            throw new ConfigException($"{fileName}: files.home_paths has more than {Checkpoint.CantMove.HomePaths.MaxPrefixes} paths");
        if (config.HomePaths.Select(Checkpoint.CantMove.HomePaths.Problem).FirstOrDefault(p => p is not null) is { } homePath)
            throw new ConfigException($"{fileName}: files.home_paths: {homePath}");
        if (config.CheckpointInterval > TimeSpan.Zero && config.CheckpointInterval < TimeSpan.FromSeconds(1))
            throw new ConfigException($"{fileName}: checkpoint.interval_ms must be 0 (off) or at least 1000");
        return config;
    }

    /// <summary>The balancer's tunables ([balance]); ranges keep each one meaningful, not merely parseable.</summary>
    private static BalancerOptions Balancer(Reader reader, BalancerOptions defaults, string fileName)
    {
        var options = new BalancerOptions
        {
            Margin = reader.Real("balance.margin", defaults.Margin, 0, 10),
            CostFactor = reader.Real("balance.cost_factor", defaults.CostFactor, 0, 1000),
            // Megabytes (10^6 bytes) per second, as `om sim --bandwidth`: bytes per second are unreadable at LAN speeds.
            LinkBytesPerSecond = reader.Real("balance.link_mb_per_second", defaults.LinkBytesPerSecond / 1e6, 0.001, 1e6) * 1e6,
            MoveOverheadSeconds = reader.Milliseconds("balance.move_overhead_ms", TimeSpan.FromSeconds(defaults.MoveOverheadSeconds), 0, 600_000).TotalSeconds,
            MinDemand = reader.Real("balance.min_demand", defaults.MinDemand, 0, 1),
            Cooldown = reader.Milliseconds("balance.cooldown_ms", defaults.Cooldown, 0, 86_400_000),
            MaxOutPerRound = (int)reader.Integer("balance.max_out_per_round", defaults.MaxOutPerRound, 1, 1000),
            MaxInPerRound = (int)reader.Integer("balance.max_in_per_round", defaults.MaxInPerRound, 1, 1000),
            MaxConcurrentMoves = (int)reader.Integer("balance.max_concurrent_moves", defaults.MaxConcurrentMoves, 1, 1000),
            UsherBelowFreeFraction = reader.Real("balance.usher_below_free_percent", defaults.UsherBelowFreeFraction * 100, 0, 90) / 100,
            KeepFreeFraction = reader.Real("balance.keep_free_percent", defaults.KeepFreeFraction * 100, 0, 90) / 100,
            UsherLookahead = reader.Milliseconds("balance.usher_lookahead_ms", defaults.UsherLookahead, 0, 600_000),
            UsherLookaheadMax = reader.Milliseconds("balance.usher_lookahead_max_ms", defaults.UsherLookaheadMax, 0, 600_000),
            PlaceAtStart = reader.Boolean("balance.place_at_start", defaults.PlaceAtStart),
        };
        // A guest that left its new node below the ushering mark would be ushered on at once: ping-pong.
        if (options.KeepFreeFraction < options.UsherBelowFreeFraction)
            throw new ConfigException($"{fileName}: balance.keep_free_percent must not be below balance.usher_below_free_percent");
        // The floor above the ceiling would leave the measured moves no say: refused rather than one quietly winning.
        if (options.UsherLookaheadMax < options.UsherLookahead)
            throw new ConfigException($"{fileName}: balance.usher_lookahead_max_ms must not be below balance.usher_lookahead_ms");
        return options;
    }

    private static GuestPolicy Guests(Reader reader, GuestPolicy defaults)
    {
        const string From = "migration.guest_uids_from.";
        var byNode = new Dictionary<ushort, UidRanges>();
        foreach (var key in reader.KeysUnder(From))
        {
            if (!ushort.TryParse(key[From.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var node) || node == 0)
                throw reader.ErrorAt(key, $"{key}: '{key[From.Length..]}' is not a node id (1-65535)");
            byNode[node] = reader.Uids(key, defaults.Uids);
        }
        return new GuestPolicy(reader.Uids("migration.guest_uids", defaults.Uids), byNode,
            reader.Boolean("migration.allow_root_guests", defaults.AllowRoot));
    }

    private static DecayRates Decay(Reader reader, DecayRates defaults, string fileName)
    {
        var min = (long)DecayRates.Shortest.TotalMilliseconds;
        var max = (long)DecayRates.Longest.TotalMilliseconds;
        var rates = new DecayRates(
            reader.Milliseconds("balance.slow_half_life_ms", defaults.Slow, min, max),
            reader.Milliseconds("balance.fast_half_life_ms", defaults.Fast, min, max));
        if (rates.Fast > rates.Slow)
            throw new ConfigException($"{fileName}: balance.fast_half_life_ms must not be greater than balance.slow_half_life_ms");
        return rates;
    }

    private sealed class Reader(IReadOnlyDictionary<string, (object Value, int Line)> values, string fileName)
    {
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public long Integer(string key, long fallback, long min, long max)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not long number) throw Error(line, $"{key} must be an integer");
            if (number < min || number > max) throw Error(line, $"{key} must be between {min} and {max}");
            return number;
        }

        /// <summary>A number; an integer is taken as one too (cost_factor = 2 means 2.0).</summary>
        public double Real(string key, double fallback, double min, double max)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            var number = value switch
            {
                long integer => integer,
                double real => real,
                _ => throw Error(line, $"{key} must be a number"),
            };
            // Written so that nan (which TOML allows) fails it too: every comparison with NaN is false.
            if (!(number >= min && number <= max))
                throw Error(line, FormattableString.Invariant($"{key} must be between {min} and {max}"));
            return number;
        }

        public bool Boolean(string key, bool fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not bool flag) throw Error(line, $"{key} must be true or false");
            return flag;
        }

        public TimeSpan Milliseconds(string key, TimeSpan fallback, long min, long max) =>
            TimeSpan.FromMilliseconds(Integer(key, (long)fallback.TotalMilliseconds, min, max));

        /// <summary>An array of non-empty strings; absent: empty.</summary>
        public IReadOnlyList<string> TextList(string key)
        {
            if (!TryGet(key, out var value, out var line)) return [];
            if (value is not Tomlyn.Model.TomlArray array || array.Any(item => item is not string { Length: > 0 }))
                throw Error(line, $"{key} must be an array of non-empty strings");
            return [.. array.Cast<string>()];
        }

        /// <summary>A non-empty array of record cipher names, each once, in the order of preference.</summary>
        public IReadOnlyList<RecordCipher> RecordCiphers(string key, IReadOnlyList<RecordCipher> fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            var known = string.Join(", ", Cluster.Transport.RecordCiphers.Preference.Select(Cluster.Transport.RecordCiphers.Name));
            if (value is not Tomlyn.Model.TomlArray { Count: > 0 } array)
                throw Error(line, $"{key} must be a non-empty array of record ciphers, such as [\"{known.Replace(", ", "\", \"", StringComparison.Ordinal)}\"]");
            var ciphers = new List<RecordCipher>();
            foreach (var item in array)
            {
                if (item is not string name || Cluster.Transport.RecordCiphers.Parse(name) is not { } cipher)
                    throw Error(line, $"{key}: '{item}' is not a record cipher (known: {known})");
                if (ciphers.Contains(cipher)) throw Error(line, $"{key}: '{name}' is listed twice");
                ciphers.Add(cipher);
            }
            // The default's own instance when it says the same: OmdConfig is a record, and a list compares by reference.
            return ciphers.SequenceEqual(fallback) ? fallback : ciphers;
        }

        /// <summary>A range of node protocol versions, "6-7" or "6", none above what this build speaks.</summary>
        public ProtocolRange Protocols(string key, ProtocolRange fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not string text || ProtocolRange.Parse(text) is not { } range || range.Max > ProtocolRange.Latest)
                throw Error(line, $"{key} must be a quoted range of versions up to {ProtocolRange.Latest}, such as \"{ProtocolRange.Current}\"");
            return range;
        }

        /// <summary>A list of uids and ranges, "1000-60000,65534"; "" is none.</summary>
        public UidRanges Uids(string key, UidRanges fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not string text) throw Error(line, $"{key} must be a quoted list of uids like \"1000-60000\"");
            return UidRanges.TryParse(text, out var problem) ?? throw Error(line, $"{key}: {problem}");
        }

        /// <summary>The keys of the file that begin with <paramref name="prefix"/> (a table's own keys).</summary>
        public IEnumerable<string> KeysUnder(string prefix) => [.. values.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        public ConfigException ErrorAt(string key, string reason) => Error(values.TryGetValue(key, out var entry) ? entry.Line : 0, reason);

        public string Text(string key, string fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not string text || text.Length == 0) throw Error(line, $"{key} must be a non-empty string");
            return text;
        }

        /// <summary>A path; a relative one is taken relative to the configuration file, not the working directory.</summary>
        public string PathNear(string key, string fallback, bool allowEmpty = false)
        {
            if (allowEmpty && TryGet(key, out var value, out _) && value is "") return "";
            var text = Text(key, fallback);
            // Path.GetFullPath throws on a NUL; only a value from the file can hold one (a "\u0000" escape).
            if (text.Contains('\0', StringComparison.Ordinal)) throw Error(values[key].Line, $"{key} holds a NUL character, which no path can");
            var directory = Path.GetDirectoryName(Path.GetFullPath(fileName));
            return Path.IsPathRooted(text) || directory is null ? text : Path.GetFullPath(Path.Join(directory, text));
        }

        public string Choice(string key, string fallback, string[] choices)
        {
            var text = Text(key, fallback);
            if (!choices.Contains(text, StringComparer.Ordinal))
                throw Error(values[key].Line, $"{key} must be one of {string.Join(", ", choices)}");
            return text;
        }

        public IPAddress? Address(string key)
        {
            if (!TryGet(key, out var value, out var line)) return null;
            if (value is not string text) throw Error(line, $"{key} must be a quoted address");
            if (text.Length == 0) return null;
            if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw Error(line, $"{key}: '{text}' is not an IPv4 address");
            return address;
        }

        /// <summary>"address:port" (an IPv6 address in brackets); "" = none.</summary>
        public IPEndPoint? Endpoint(string key, IPEndPoint? fallback)
        {
            if (!TryGet(key, out var value, out var line)) return fallback;
            if (value is not string text) throw Error(line, $"{key} must be a quoted \"address:port\" or \"\"");
            if (text.Length == 0) return null;
            // IPEndPoint.TryParse takes a bare address too (port 0): a listener needs its port said.
            if (!IPEndPoint.TryParse(text, out var endpoint) || endpoint.Port == 0 || !text.EndsWith($":{endpoint.Port}", StringComparison.Ordinal))
                throw Error(line, $"{key}: '{text}' is not an address:port such as \"127.0.0.1:5726\" (port 1-65535)");
            return endpoint;
        }

        public IPAddress? Multicast(string key)
        {
            var address = Address(key);
            if (address is not null && (address.GetAddressBytes()[0] & 0xF0) != 0xE0)
                throw Error(values[key].Line, $"{key}: {address} is not a multicast address (224.0.0.0/4)");
            return address;
        }

        public void RejectUnknown()
        {
            foreach (var (key, (_, line)) in values)
                if (!_used.Contains(key))
                    throw Error(line, $"unknown key '{key}' (see docs/omd.md for the keys omd knows)");
        }

        public bool Has(string key) => TryGet(key, out _, out _);

        private bool TryGet(string key, out object value, out int line)
        {
            _used.Add(key);
            if (values.TryGetValue(key, out var entry))
            {
                (value, line) = entry;
                return true;
            }
            (value, line) = (null!, 0);
            return false;
        }

        // Every reason is shown on one line, whatever value from the file it quotes, here rather than at each quote:
        // parsers of their own (the uid ranges') quote values too.
        private ConfigException Error(int line, string reason) => new($"{fileName}:{line}: {Shown(reason)}");

        /// <summary>A string or quoted key from the file as it can be shown in a one-line error: "\n" escapes
        /// stand for its line breaks, as they were written.</summary>
        private static string Shown(string text) => text.ReplaceLineEndings("\\n");
    }
}
