using OpenMosix.Daemon.Migration.Guest;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>`om guest-keeper COPY OMD WINDOW_MS`: started by omd alone, one per guest (<see cref="GuestKeeper"/>); hidden.</summary>
internal static class GuestKeeperCommand
{
    public static Command Create()
    {
        var copy = new Argument<int>("copy") { Description = "The guest's PID." };
        var omd = new Argument<int>("omd") { Description = "The PID of the omd that started the keeper." };
        var window = new Argument<long>("window-ms") { Description = "How long the copy waits, stopped, for a new omd." };
        var command = new Command(GuestKeeper.Command, "Holds a guest's stdio pipes for omd (started by omd; not for use by hand).")
        {
            copy,
            omd,
            window,
        };
        command.Hidden = true;
        command.SetAction(parse => GuestKeeper.Run(parse.GetValue(copy), parse.GetValue(omd), TimeSpan.FromMilliseconds(parse.GetValue(window))));
        return command;
    }
}
