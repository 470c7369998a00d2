using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Cli.Commands.Cluster;

internal static class DaemonCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config", "-C")
        {
            Description = $"The configuration file (default {OmdConfig.DefaultPath}; every key is optional).",
        };
        var command = new Command("daemon",
            "Run omd, the node daemon, in the foreground: it gossips this node's load with the cluster and serves the " +
            "admin API that every other om command uses. On SIGTERM or SIGINT it first brings its processes home and sends " +
            "its guests home (shutdown.drain_timeout_ms), then stops; a second signal stops it at once. Also run as `omd`.")
        {
            config,
        };
        command.SetAction(parse =>
        {
            var settings = OmdConfigLoader.Load(parse.GetValue(config));
            using var stop = new OmdShutdown();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using (var loggers = Loggers(settings, parse.GetValue(GlobalOptions.Debug)))
                OmdHost.RunAsync(settings, loggers, stop).GetAwaiter().GetResult();
            return 0;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Request();
            }
        });
        return command;
    }

    private static ILoggerFactory Loggers(OmdConfig config, bool debug) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(debug ? LogLevel.Debug : Enum.Parse<LogLevel>(config.LogLevel, ignoreCase: true))
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        }));
}
