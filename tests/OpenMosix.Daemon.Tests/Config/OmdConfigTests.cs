using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Tests.Config;

public sealed class OmdConfigTests
{
    [Fact]
    public void A_missing_default_file_means_every_default()
    {
        var config = OmdConfigLoader.Load(null);
        Assert.Equal(new OmdConfig(), config with { });
        Assert.Equal(5723, config.GossipPort);
        Assert.Equal(TimeSpan.FromSeconds(10), config.Gossip.DeadAfter);
    }

    [Fact]
    public void A_named_file_that_does_not_exist_is_an_error()
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Load("/nonexistent/omd.toml"));
        Assert.Contains("/nonexistent/omd.toml: no such file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_documented_key_is_read()
    {
        const string text = """
            # a full file
            [node]
            id = 7
            address = "10.1.2.3"
            [paths]
            map = "/etc/om.map"
            key = "/etc/om.key"   # trailing comment
            socket = "/run/om.sock"
            [gossip]
            port = 6000
            interval_ms = 500
            fanout = 4
            suspect_after_ms = 2_000
            dead_after_ms = 5000
            replay_window_ms = 10000
            [load]
            half_life_ms = 2000
            [speed]
            override = 15000
            calibration_ms = 50
            [discovery]
            group = "239.1.2.3"
            port = 6001
            interval_ms = 300
            forget_after_ms = 3000
            [migration]
            port = 6002
            precopy = false
            precopy_rounds = 2
            postcopy = "always"
            bandwidth_limit_mib_s = 32
            [liveness]
            heartbeat_interval_ms = 200
            link_timeout_ms = 3000
            takeover_window_ms = 12000
            [balance]
            enabled = false
            interval_ms = 250
            margin = 0.3
            cost_factor = 3
            link_mb_per_second = 12.5
            move_overhead_ms = 20
            min_demand = 0.5
            cooldown_ms = 10000
            max_out_per_round = 4
            max_in_per_round = 3
            usher_below_free_percent = 5
            keep_free_percent = 7.5
            slow_half_life_ms = 30000
            fast_half_life_ms = 1500
            [shutdown]
            drain_timeout_ms = 20000
            [log]
            level = "debug"
            """;
        var config = OmdConfigLoader.Parse(text, "/etc/openmosix/omd.toml");
        Assert.Equal(7, config.NodeId);
        Assert.Equal("10.1.2.3", config.Address!.ToString());
        Assert.Equal(("/etc/om.map", "/etc/om.key", "/run/om.sock"), (config.MapPath, config.KeyPath, config.SocketPath));
        Assert.Equal(6000, config.GossipPort);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.Gossip.Interval);
        Assert.Equal(4, config.Gossip.Fanout);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Gossip.SuspectAfter);
        Assert.Equal(TimeSpan.FromSeconds(5), config.Gossip.DeadAfter);
        Assert.Equal(TimeSpan.FromSeconds(10), config.Gossip.ReplayWindow);
        Assert.Equal(TimeSpan.FromSeconds(2), config.LoadHalfLife);
        Assert.Equal(15000u, config.SpeedOverride);
        Assert.Equal(TimeSpan.FromMilliseconds(50), config.Calibration);
        Assert.Equal("239.1.2.3", config.DiscoveryGroup.ToString());
        Assert.Equal(6001, config.DiscoveryPort);
        Assert.Equal(TimeSpan.FromMilliseconds(300), config.DiscoveryInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), config.DiscoveryForgetAfter);
        Assert.Equal(6002, config.MigrationPort);
        Assert.Equal((false, 2), (config.Precopy, config.PrecopyRounds));
        Assert.Equal(OpenMosix.Daemon.Migration.Postcopy.PostcopyMode.Always, config.Postcopy);
        Assert.Equal(32, config.BandwidthLimit);
        Assert.Equal((TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(12)), (config.HeartbeatInterval, config.LinkTimeout, config.TakeoverWindow));
        Assert.Equal((false, TimeSpan.FromMilliseconds(250)), (config.Balance, config.BalanceInterval));
        Assert.Equal(new OpenMosix.Balancing.BalancerOptions
        {
            Margin = 0.3,
            CostFactor = 3,
            LinkBytesPerSecond = 12.5e6,
            MoveOverheadSeconds = 0.02,
            MinDemand = 0.5,
            Cooldown = TimeSpan.FromSeconds(10),
            MaxOutPerRound = 4,
            MaxInPerRound = 3,
            UsherBelowFreeFraction = 0.05,
            KeepFreeFraction = 0.075,
        }, config.Balancer);
        Assert.Equal(new OpenMosix.Balancing.Demand.DecayRates(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1.5)), config.Decay);
        Assert.Equal("debug", config.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(20), config.DrainTimeout);
    }

    [Fact]
    public void The_drain_takes_a_minute_by_default_and_zero_turns_it_off()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), new OmdConfig().DrainTimeout);
        Assert.Equal(TimeSpan.Zero, OmdConfigLoader.Parse("[shutdown]\ndrain_timeout_ms = 0\n", "omd.toml").DrainTimeout);
    }

    [Fact]
    public void Balancer_tunables_left_out_keep_the_policy_defaults()
    {
        var config = OmdConfigLoader.Parse("[balance]\nmargin = 0.2\n", "omd.toml");
        Assert.Equal(new OpenMosix.Balancing.BalancerOptions { Margin = 0.2 }, config.Balancer);
        Assert.Equal(OpenMosix.Balancing.Demand.DecayRates.Default, config.Decay);
    }

    [Fact]
    public void The_shipped_example_configuration_states_exactly_the_defaults()
    {
        var example = Path.Join(OpenMosix.TestSupport.TestPrograms.RepositoryRoot, "packaging", "omd.toml.example");
        Assert.Equal(new OmdConfig(), OmdConfigLoader.Load(example));
    }

    [Fact]
    public void Relative_paths_are_taken_relative_to_the_config_file()
    {
        var config = OmdConfigLoader.Parse("[paths]\nmap = \"cluster.map\"\n", "/srv/lab/n1/omd.toml");
        Assert.Equal("/srv/lab/n1/cluster.map", config.MapPath);
    }

    [Theory]
    [InlineData("[gossip]\nintervall_ms = 5\n", ":2: unknown key 'gossip.intervall_ms'")]
    [InlineData("[gossip]\nport = \"x\"\n", ":2: gossip.port must be an integer")]
    [InlineData("[gossip]\nport = 70000\n", ":2: gossip.port must be between 1 and 65535")]
    [InlineData("[gossip]\nsuspect_after_ms = 5000\ndead_after_ms = 4000\n", "dead_after_ms must be greater")]
    [InlineData("[node]\naddress = \"not-an-ip\"\n", ":2: node.address: 'not-an-ip' is not an IPv4 address")]
    [InlineData("[discovery]\ngroup = \"10.0.0.1\"\n", "is not a multicast address")]
    [InlineData("[log]\nlevel = \"loud\"\n", ":2: log.level must be one of")]
    [InlineData("[migration]\npostcopy = \"sometimes\"\n", ":2: migration.postcopy must be one of auto, never, always")]
    [InlineData("[migration]\npostcopy = true\n", ":2: migration.postcopy")]
    [InlineData("[migration]\nprecopy = 1\n", ":2: migration.precopy must be true or false")]
    [InlineData("[migration]\nbandwidth_limit_mib_s = -1\n", ":2: migration.bandwidth_limit_mib_s must be between 0 and 1000000")]
    [InlineData("[migration]\nbandwidth_limit_mib_s = 2.5\n", ":2: migration.bandwidth_limit_mib_s must be an integer")]
    [InlineData("[migration]\nbandwidth_limit_mib_s = \"32M\"\n", ":2: migration.bandwidth_limit_mib_s must be an integer")]
    [InlineData("[node\nid = 1\n", ":1: Unexpected token found")]
    [InlineData("id 1\n", ":1: Expecting `=` after a key")]
    [InlineData("[node]\nid = 1\nid = 2\n", ":3: The key `node.id` is already defined")]
    [InlineData("[paths]\nmap = \"open\n", ":2: Invalid newline in a string")]
    [InlineData("[paths]\nmap = bare\n", ":2: Unexpected token `bare` for a value")]
    [InlineData("[balance]\nmargin = -0.1\n", ":2: balance.margin must be between 0 and 10")]
    [InlineData("[balance]\nmargin = \"high\"\n", ":2: balance.margin must be a number")]
    [InlineData("[balance]\ncost_factor = true\n", ":2: balance.cost_factor must be a number")]
    [InlineData("[balance]\nlink_mb_per_second = 0\n", ":2: balance.link_mb_per_second must be between 0.001 and 1000000")]
    [InlineData("[balance]\nmove_overhead_ms = 0.5\n", ":2: balance.move_overhead_ms must be an integer")]
    [InlineData("[balance]\nmin_demand = 1.5\n", ":2: balance.min_demand must be between 0 and 1")]
    [InlineData("[balance]\ncooldown_ms = -1\n", ":2: balance.cooldown_ms must be between 0 and 86400000")]
    [InlineData("[balance]\nmax_out_per_round = 0\n", ":2: balance.max_out_per_round must be between 1 and 1000")]
    [InlineData("[balance]\nmax_in_per_round = 0\n", ":2: balance.max_in_per_round must be between 1 and 1000")]
    [InlineData("[balance]\nusher_below_free_percent = 95\n", ":2: balance.usher_below_free_percent must be between 0 and 90")]
    [InlineData("[balance]\nkeep_free_percent = -5\n", ":2: balance.keep_free_percent must be between 0 and 90")]
    [InlineData("[balance]\nusher_below_free_percent = 20\nkeep_free_percent = 10\n", ": balance.keep_free_percent must not be below balance.usher_below_free_percent")]
    [InlineData("[balance]\nusher_lookahead_max_ms = 1000\n", ": balance.usher_lookahead_max_ms must not be below balance.usher_lookahead_ms")]
    [InlineData("[balance]\nusher_lookahead_max_ms = 700000\n", ":2: balance.usher_lookahead_max_ms must be between 0 and 600000")]
    [InlineData("[balance]\nslow_half_life_ms = 50\n", ":2: balance.slow_half_life_ms must be between 100 and 86400000")]
    [InlineData("[balance]\nfast_half_life_ms = 0\n", ":2: balance.fast_half_life_ms must be between 100 and 86400000")]
    [InlineData("[balance]\nslow_half_life_ms = 2000\n", ": balance.fast_half_life_ms must not be greater than balance.slow_half_life_ms")]
    [InlineData("[balance]\nlink_bytes_per_second = 1e8\n", ":2: unknown key 'balance.link_bytes_per_second'")]
    [InlineData("[liveness]\nheartbeat_interval_ms = 0\n", ":2: liveness.heartbeat_interval_ms must be between 10 and 60000")]
    [InlineData("[liveness]\nlink_timeout_ms = \"10s\"\n", ":2: liveness.link_timeout_ms must be an integer")]
    [InlineData("[liveness]\nlink_timeout_ms = 2000\n", ": liveness.link_timeout_ms must be at least 3 times liveness.heartbeat_interval_ms")]
    [InlineData("[liveness]\nheartbeat_interval_ms = 5000\n", ": liveness.link_timeout_ms must be at least 3 times liveness.heartbeat_interval_ms")]
    [InlineData("[shutdown]\ndrain_timeout_ms = -1\n", ":2: shutdown.drain_timeout_ms must be between 0 and 3600000")]
    [InlineData("[shutdown]\ndrain_timeout_ms = \"60s\"\n", ":2: shutdown.drain_timeout_ms must be an integer")]
    [InlineData("[shutdown]\ndrain_ms = 100\n", ":2: unknown key 'shutdown.drain_ms'")]
    [InlineData("[checkpoint]\ninterval_ms = 500\n", ": checkpoint.interval_ms must be 0 (off) or at least 1000")]
    [InlineData("[checkpoint]\ninterval_ms = -1\n", ":2: checkpoint.interval_ms must be between 0 and 86400000")]
    public void A_bad_file_is_refused_with_its_line_and_reason(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse(text, "omd.toml"));
        Assert.StartsWith("omd.toml", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
