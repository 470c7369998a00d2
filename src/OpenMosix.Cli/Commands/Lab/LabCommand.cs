namespace OpenMosix.Cli.Commands.Lab;

/// <summary>`om lab`: a real multi-node cluster on one machine, in network and mount namespaces and cgroups.</summary>
internal static class LabCommand
{
    public static Command Create() => new("lab", "A local multi-node lab: N nodes on one machine, each with its own network, mounts and cgroups.")
    {
        LabUpCommand.Create(),
        LabExecCommand.Create(),
        LabStatusCommand.Create(),
        LabDownCommand.Create(),
        LabFaultCommands.Restart(),
        LabFaultCommands.Kill(),
        LabFaultCommands.Revive(),
        LabFaultCommands.Cut(),
        LabFaultCommands.Heal(),
        LabNetemCommand.Create(),
        LabLinkRelayCommand.Create(),
    };
}
