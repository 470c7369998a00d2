using System.Globalization;
using OpenMosix.Cluster.Keys;
using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>`om key rotate|retire|list`: the keyring's life without downtime (docs/gossip.md, rotation).</summary>
internal static class KeyCommand
{
    public static Command Create()
    {
        var command = new Command("key", "Manage the cluster keyring: add a key (rotate), drop old ones (retire), list them.")
        {
            Rotate(),
            Retire(),
            List(),
        };
        return command;
    }

    private static Argument<string> PathArgument() => new("PATH")
    {
        Description = $"The keyring (default {KeygenCommand.DefaultPath}).",
        DefaultValueFactory = _ => KeygenCommand.DefaultPath,
    };

    private static Command Rotate()
    {
        var path = PathArgument();
        var activate = new Option<string>("--activate-after")
        {
            Description = "Nodes start sending under the new key this long after now (time to copy the file to every node), e.g. 0, 90s, 10m.",
            DefaultValueFactory = _ => "2m",
        };
        var retire = new Option<string?>("--retire-older-than") { Description = "Also drop keys created longer ago than this, e.g. 30d." };
        var command = new Command("rotate",
            "Add a fresh key to the keyring (written to a new 0600 file renamed over the old). Copy the file to every node; " +
            "running omds pick it up by themselves (or on SIGHUP), accept it at once and send under it once it is active.")
        {
            path, activate, retire,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(path)!;
            var now = DateTimeOffset.UtcNow;
            var delay = Duration(parse.GetValue(activate)!, "--activate-after");
            var age = parse.GetValue(retire) is { } text ? Duration(text, "--retire-older-than") : (TimeSpan?)null;
            var ring = KeyringFile.Rotate(target, now, delay, age);
            var added = ring.Secrets[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"added key {added.Id} to {target}, sent under from {added.Active:yyyy-MM-ddTHH:mm:ssZ}; keys now {Ids(ring)}; copy the file to every node"));
            return 0;
        });
        return command;
    }

    private static Command Retire()
    {
        var path = PathArgument();
        var olderThan = new Option<string>("--older-than")
        {
            Description = "Drop keys created longer ago than this (e.g. 7d); the key in use for sending always stays.",
            Required = true,
        };
        var command = new Command("retire", "Drop old keys from the keyring, once every node sends under a newer one.")
        {
            path, olderThan,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(path)!;
            var ring = KeyringFile.Retire(target, DateTimeOffset.UtcNow, Duration(parse.GetValue(olderThan)!, "--older-than"));
            Console.WriteLine($"{target} now holds keys {Ids(ring)}; copy the file to every node");
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var path = PathArgument();
        var command = new Command("list", "List the keyring's keys (ids and times, never the secrets).") { path };
        command.SetAction(parse =>
        {
            var ring = KeyringFile.Read(parse.GetValue(path)!);
            var now = DateTimeOffset.UtcNow;
            var sending = ring.SendingAt(now).Id;
            Console.WriteLine("ID     CREATED               ACTIVE");
            foreach (var secret in ring.Secrets)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{secret.Id,-6} {secret.Created:yyyy-MM-ddTHH:mm:ssZ}  {secret.Active:yyyy-MM-ddTHH:mm:ssZ}{(secret.Id == sending ? "  (sending)" : "")}"));
            return 0;
        });
        return command;
    }

    private static string Ids(Keyring ring) => string.Join(',', ring.Secrets.Select(s => s.Id));

    /// <summary>A duration like 0, 45s, 10m, 2h or 30d.</summary>
    internal static TimeSpan Duration(string text, string option)
    {
        var hasUnit = text.Length > 0 && char.IsLetter(text[^1]);
        var unit = hasUnit ? text[^1] : 's';
        var digits = hasUnit ? text[..^1] : text;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 100_000)
            throw new UsageException($"{option}: `{text}` is not a duration like 90s, 10m, 2h or 30d");
        return unit switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => throw new UsageException($"{option}: `{text}` is not a duration like 90s, 10m, 2h or 30d"),
        };
    }
}
