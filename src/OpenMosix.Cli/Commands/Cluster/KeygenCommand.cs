using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Cli.Commands.Cluster;

internal static class KeygenCommand
{
    public const string DefaultPath = "/etc/openmosix/cluster.key";

    public static Command Create()
    {
        var path = new Argument<string>("PATH")
        {
            Description = $"Where to write the keyring (default {DefaultPath}).",
            DefaultValueFactory = _ => DefaultPath,
        };
        var command = new Command("keygen",
            "Create a new cluster keyring holding one random key (mode 0600). Copy the same file to every node: omd " +
            "encrypts gossip and discovery with it. An existing file is never overwritten; `om key rotate` adds keys.")
        {
            path,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(path)!;
            KeyringFile.Create(target, DateTimeOffset.UtcNow);
            Console.WriteLine($"wrote a new cluster keyring to {target}; copy it to every node");
            return 0;
        });
        return command;
    }
}
