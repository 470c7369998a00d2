using OpenMosix.Lab;
using OpenMosix.Lab.State;

namespace OpenMosix.Cli.Commands.Lab;

/// <summary>`om lab netem NODE --loss P --delay MS | --clear`: a slow, lossy link for one node (tc netem, both directions).</summary>
internal static class LabNetemCommand
{
    public static Command Create()
    {
        var node = LabOptions.Node("The node (1..N).");
        var loss = new Option<double?>("--loss") { Description = "Percentage of packets lost in each direction (0-100, e.g. 0.5)." };
        var delay = new Option<double?>("--delay") { Description = "Milliseconds added to every packet in each direction (a round trip gets twice that)." };
        var clear = new Option<bool>("--clear") { Description = "Remove the delay and loss: the node's link back to normal." };
        var name = LabOptions.Name();
        return ResultCommand.Create("netem", "Make a node's link slow and lossy with tc netem, in both directions, or (--clear) normal again.",
            [node, loss, delay, clear, name], CliJsonContext.Default.LabFaultJson,
            parse =>
            {
                var valid = LabFaultCommands.ValidNode(parse.GetValue(node));
                var settings = Settings(parse.GetValue(loss), parse.GetValue(delay), parse.GetValue(clear));
                NodeFaults.Netem(new LabLayout(LabName.Parse(parse.GetRequiredValue(name))), valid, settings);
                return LabFaultCommands.Done((new LabFaultJson(valid, "netem") { Netem = settings },
                    settings is null ? $"node {valid}: netem cleared" : $"node {valid}: netem {settings} each way"));
            },
            LabFaultCommands.PrintDone);
    }

    /// <summary>The settings asked for, null for --clear; a contradiction or a value out of range is a usage error.</summary>
    public static NetemSettings? Settings(double? loss, double? delay, bool clear)
    {
        if (clear && (loss is not null || delay is not null)) throw new UsageException("--clear contradicts --loss and --delay");
        if (clear) return null;
        if (loss is null && delay is null) throw new UsageException("give --loss P, --delay MS (or both), or --clear");
        var settings = new NetemSettings(loss ?? 0, delay ?? 0);
        return settings.Problem() is { } problem ? throw new UsageException(problem) : settings;
    }
}
