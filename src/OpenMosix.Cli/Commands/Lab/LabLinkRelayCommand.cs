using OpenMosix.Lab;
using OpenMosix.Lab.Host;

namespace OpenMosix.Cli.Commands.Lab;

/// <summary>`om lab link-relay NODE --delay MS --jitter MS`: the process `om lab netem` starts to delay a node's link where
/// the kernel has no netem (<see cref="DelayRelay"/>); hidden, it is no command for people.</summary>
internal static class LabLinkRelayCommand
{
    public static Command Create()
    {
        var node = LabOptions.Node("The node whose link is delayed.");
        var delay = new Option<double>("--delay") { Description = "Milliseconds each frame waits, each way.", Required = true };
        var jitter = new Option<double>("--jitter") { Description = "Milliseconds by which that varies either way." };
        var name = LabOptions.Name();
        var command = new Command("link-relay", "Relay a node's frames between its host veth and a tap on the bridge, delayed (started by `om lab netem`).")
        {
            node, delay, jitter, name,
        };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var layout = new LabLayout(LabName.Parse(parse.GetRequiredValue(name)));
            var id = LabFaultCommands.ValidNode(parse.GetValue(node));
            try
            {
                DelayRelay.Run(layout.Name.HostVeth(id), layout.Name.RelayTap(id), parse.GetValue(delay), parse.GetValue(jitter),
                    () => Console.Error.WriteLine($"relaying {layout.Name.HostVeth(id)} <-> {layout.Name.RelayTap(id)}, {parse.GetValue(delay)} ms each way"));
            }
            catch (Exception e) when (e is LabException or OpenMosix.Linux.SyscallException or IOException)
            {
                Console.Error.WriteLine($"om lab link-relay: {e.Message}");
            }
            return 1;
        });
        return command;
    }
}
