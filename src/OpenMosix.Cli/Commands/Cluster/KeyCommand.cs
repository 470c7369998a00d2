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
        return ResultCommand.Create("rotate",
            "Add a fresh key to the keyring (written to a new 0600 file renamed over the old). Copy the file to every node; " +
            "running omds pick it up by themselves (or on SIGHUP), accept it at once and send under it once it is active.",
            [path, activate, retire], CliJsonContext.Default.KeyringJson,
            parse =>
            {
                var target = parse.GetValue(path)!;
                var now = DateTimeOffset.UtcNow;
                var delay = Duration(parse.GetValue(activate)!, "--activate-after");
                var age = parse.GetValue(retire) is { } text ? Duration(text, "--retire-older-than") : (TimeSpan?)null;
                var ring = KeyringFile.Rotate(target, now, delay, age);
                return KeyringJson.Of(target, ring, now) with { Added = ring.Secrets[^1].Id };
            },
            ring =>
            {
                var added = ring.Keys.Single(k => k.Id == ring.Added);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"added key {added.Id} to {ring.Path}, sent under from {added.Active:yyyy-MM-ddTHH:mm:ssZ}; keys now {Ids(ring)}; copy the file to every node"));
            },
            json: Json("the keyring after the change, with the id of the key added"));
    }

    private static Command Retire()
    {
        var path = PathArgument();
        var olderThan = new Option<string>("--older-than")
        {
            Description = "Drop keys created longer ago than this (e.g. 7d); the key in use for sending always stays.",
            Required = true,
        };
        return ResultCommand.Create("retire", "Drop old keys from the keyring, once every node sends under a newer one.",
            [path, olderThan], CliJsonContext.Default.KeyringJson,
            parse =>
            {
                var target = parse.GetValue(path)!;
                var now = DateTimeOffset.UtcNow;
                return KeyringJson.Of(target, KeyringFile.Retire(target, now, Duration(parse.GetValue(olderThan)!, "--older-than")), now);
            },
            ring => Console.WriteLine($"{ring.Path} now holds keys {Ids(ring)}; copy the file to every node"),
            json: Json("the keyring after the change"));
    }

    private static Command List()
    {
        var path = PathArgument();
        return ResultCommand.Create("list", "List the keyring's keys (ids and times, never the secrets).",
            [path], CliJsonContext.Default.KeyringJson,
            parse =>
            {
                var target = parse.GetValue(path)!;
                return KeyringJson.Of(target, KeyringFile.Read(target), DateTimeOffset.UtcNow);
            },
            ring =>
            {
                Console.WriteLine("ID     CREATED               ACTIVE");
                foreach (var key in ring.Keys)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{key.Id,-6} {key.Created:yyyy-MM-ddTHH:mm:ssZ}  {key.Active:yyyy-MM-ddTHH:mm:ssZ}{(key.Id == ring.Sending ? "  (sending)" : "")}"));
            },
            json: Json("the keyring"));
    }

    private static Option<bool> Json(string what) =>
        new("--json") { Description = $"Print {what} as JSON: its path, the key sent under now, and every key's id and times (never the secrets)." };

    private static string Ids(KeyringJson ring) => string.Join(',', ring.Keys.Select(k => k.Id));

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

/// <summary>om key list|rotate|retire --json: the keyring by its ids and times, never its secrets; Added after rotate.</summary>
internal sealed record KeyringJson(string Path, int Sending, IReadOnlyList<KeyJson> Keys)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Added { get; init; }

    public static KeyringJson Of(string path, Keyring ring, DateTimeOffset now) =>
        new(path, ring.SendingAt(now).Id, [.. ring.Secrets.Select(s => new KeyJson(s.Id, s.Created, s.Active))]);
}

internal sealed record KeyJson(int Id, DateTimeOffset Created, DateTimeOffset Active);
