using Microsoft.Extensions.Logging;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Discovery;
using OpenMosix.Daemon.Hosting;
using OpenMosix.Linux;

namespace OpenMosix.Cli.Commands.Cluster;

internal static class DiscoverCommand
{
    public static Command Create()
    {
        var interfaces = new Option<string?>("-i", "--interfaces")
        {
            Description = "Comma-separated interfaces to announce and listen on (default: every interface that is up and can multicast).",
        };
        var ttl = new Option<int>("-m", "--ttl") { Description = "Multicast TTL: how many routers announcements may cross.", DefaultValueFactory = _ => 1 };
        var foreground = new Option<bool>("-n", "--foreground") { Description = "Stay in the foreground and log to stderr." };
        var config = new Option<string?>("--config", "-C") { Description = $"omd's configuration file (default {OmdConfig.DefaultPath}): key path and [discovery] settings." };
        var log = new Option<string>("--log") { Description = "Log file when running in the background.", DefaultValueFactory = _ => "/var/log/omdiscd.log" };
        var command = new Command("discover",
            "Run omdiscd: find the other nodes by UDP multicast and keep the local omd's map equal to the nodes heard " +
            "recently, so nodes join and leave without a map file. Also run as `omdiscd`.")
        {
            interfaces, ttl, foreground, config, log,
        };
        command.SetAction(parse =>
        {
            var settings = OmdConfigLoader.Load(parse.GetValue(config));
            // Read now so a missing or loose key file fails in the user's terminal, not later in a log file.
            KeyringFile.Read(settings.KeyPath);
            var names = (parse.GetValue(interfaces) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var hops = parse.GetValue(ttl);
            if (hops is < 1 or > 255) throw new UsageException("the TTL must be between 1 and 255");
            var options = new DiscoveryOptions(names, settings.DiscoveryGroup, settings.DiscoveryPort, hops,
                settings.DiscoveryInterval, settings.DiscoveryForgetAfter);
            // Fail on a bad interface name now, in the user's terminal, not later in a log file.
            MulticastInterface.Resolve(names);
            if (!parse.GetValue(foreground))
            {
                List<string> again = ["-n", "-m", hops.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                if (names.Length > 0) again.AddRange(["-i", string.Join(',', names)]);
                if (parse.GetValue(config) is { } file) again.AddRange(["--config", Path.GetFullPath(file)]);
                return Detach(again, parse.GetValue(log)!);
            }

            using var stop = new CancellationTokenSource();
            using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var loggers = LoggerFactory.Create(b => b
                .SetMinimumLevel(parse.GetValue(GlobalOptions.Debug) ? LogLevel.Debug : LogLevel.Information)
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                    o.UseUtcTimestamp = true;
                }));
            using var omd = new AdminClient(settings.SocketPath);
            var logger = loggers.CreateLogger("omdiscd");
            using var origins = OriginKeysLoader.Load(settings.TlsDirectory, settings.OriginSignatures, () => DateTimeOffset.UtcNow);
            using var agent = new DiscoveryAgent(options, new KeyringWatcher(settings.KeyPath, logger), origins, omd, logger);
            agent.RunAsync(stop.Token).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    /// <summary>Starts this same command again with -n, in a process group of its own, logging to a file.</summary>
    private static int Detach(List<string> args, string logPath)
    {
        using var log = File.Open(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var devnull = File.OpenRead("/dev/null");
        var pid = ProcessSpawner.Spawn(new SpawnRequest("/proc/self/exe", ["omdiscd", .. args])
        {
            Descriptors = new Dictionary<int, int>
            {
                [0] = (int)devnull.SafeFileHandle.DangerousGetHandle(),
                [1] = (int)log.SafeFileHandle.DangerousGetHandle(),
                [2] = (int)log.SafeFileHandle.DangerousGetHandle(),
            },
            NewProcessGroup = true,
        });
        Console.WriteLine($"omdiscd running as pid {pid}, logging to {logPath}");
        return 0;
    }
}
