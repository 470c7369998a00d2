using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Cli.Commands.Cluster;

internal static class KeygenCommand
{
    public const string DefaultPath = "/etc/openmosix/cluster.key";

    public static Command Create()
    {
        var path = new Argument<string>("PATH")
        {
            Description = $"Where to write the key (default {DefaultPath}).",
            DefaultValueFactory = _ => DefaultPath,
        };
        var command = new Command("keygen",
            "Create a new random cluster key (mode 0600). Copy the same file to every node: omd authenticates gossip with it. " +
            "An existing key is never overwritten.")
        {
            path,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(path)!;
            ClusterKey.Create(target);
            Console.WriteLine($"wrote a new cluster key to {target}; copy it to every node");
            return 0;
        });
        return command;
    }
}
