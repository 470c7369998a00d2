using OpenMosix.Lab;
using OpenMosix.Lab.State;

namespace OpenMosix.Cli.Commands.Lab;

/// <summary>`om lab netem NODE --loss P --delay MS [--jitter MS] | --clear`: a slow, lossy link for one node (tc netem, both
/// directions; without netem in the kernel, loss by a tc filter and delay by a relay, `om lab link-relay`).</summary>
internal static class LabNetemCommand
{
    public static Command Create()
    {
        var node = LabOptions.Node("The node (1..N).");
        var loss = new Option<double?>("--loss") { Description = "Percentage of packets lost in each direction (0-100, e.g. 0.5)." };
        var delay = new Option<double?>("--delay") { Description = "Milliseconds added to every packet in each direction (a round trip gets twice that)." };
        var jitter = new Option<double?>("--jitter") { Description = "Milliseconds by which each packet's delay varies either way (at most the delay)." };
        var clear = new Option<bool>("--clear") { Description = "Remove the delay and loss: the node's link back to normal." };
        var name = LabOptions.Name();
        return ResultCommand.Create("netem", "Make a node's link slow and lossy with tc netem, in both directions, or (--clear) normal again (without netem: loss by a tc filter, delay by a relay).",
            [node, loss, delay, jitter, clear, name], CliJsonContext.Default.LabFaultJson,
            parse =>
            {
                var valid = LabFaultCommands.ValidNode(parse.GetValue(node));
                var settings = Settings(parse.GetValue(loss), parse.GetValue(delay), parse.GetValue(clear), parse.GetValue(jitter));
                NodeFaults.Netem(new LabLayout(LabName.Parse(parse.GetRequiredValue(name))), valid, settings, LabOptions.OmPath());
                return LabFaultCommands.Done((new LabFaultJson(valid, "netem") { Netem = settings },
                    settings is null ? $"node {valid}: netem cleared" : $"node {valid}: netem {settings} each way"));
            },
            LabFaultCommands.PrintDone);
    }

    /// <summary>The settings asked for, null for --clear; a contradiction or a value out of range is a usage error.</summary>
    public static NetemSettings? Settings(double? loss, double? delay, bool clear, double? jitter = null)
    {
        if (clear && (loss is not null || delay is not null)) throw new UsageException("--clear contradicts --loss and --delay");
        if (clear && jitter is not null) throw new UsageException("--clear contradicts --jitter");
        if (clear) return null;
        if (loss is null && delay is null) throw new UsageException("give --loss P, --delay MS (or both), or --clear");
        if (jitter is not null && delay is null) throw new UsageException("--jitter needs --delay");
        var settings = new NetemSettings(loss ?? 0, delay ?? 0) { JitterMilliseconds = jitter ?? 0 };
        return settings.Problem() is { } problem ? throw new UsageException(problem) : settings;
    }
}
