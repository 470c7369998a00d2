using System.Globalization;
using System.Text;

namespace OpenMosix.Cluster.Keys;

/// <summary>
/// The keyring file format (docs/gossip.md): a first line <c>openmosix-keyring 1</c>, then one line per secret
/// <c>key ID CREATED ACTIVE SECRET</c> (id 0-65535, times as UTC ISO-8601, secret in base64, at least 16 bytes);
/// lines starting with # and blank lines are ignored. A file that does not start with the header is a key of the
/// first format (raw bytes, `om keygen` before keyrings) and reads as key id 0, valid since the epoch, so existing
/// clusters keep working until they rotate.
/// </summary>
public static class KeyringText
{
    public const string Header = "openmosix-keyring 1";
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    public static bool IsKeyring(ReadOnlySpan<byte> content) => content.StartsWith(Encoding.ASCII.GetBytes(Header));

    /// <summary>Parses a key file's bytes; throws <see cref="FormatException"/> with a one-line reason.</summary>
    public static Keyring Parse(ReadOnlySpan<byte> content)
    {
        if (!IsKeyring(content))
        {
            if (content.Length < Keyring.MinSecretSize)
                throw new FormatException($"a cluster key needs at least {Keyring.MinSecretSize} bytes, this one has {content.Length}");
            return Keyring.Of([new ClusterSecret(0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, [.. content])]);
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException("the keyring is not text");
        }
        var secrets = new List<ClusterSecret>();
        var lines = text.Split('\n');
        for (var number = 2; number <= lines.Length; number++)
        {
            var line = lines[number - 1].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            secrets.Add(ParseLine(line, number));
        }
        if (secrets.Count == 0)
            throw new FormatException("the keyring holds no key");
        try
        {
            return Keyring.Of(secrets);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message.Split(" (Parameter", 2)[0], e);
        }
    }

    public static string Format(Keyring ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var text = new StringBuilder();
        text.Append(Header).Append('\n');
        text.Append("# one line per key: key ID CREATED ACTIVE SECRET (UTC times, base64 secret); `om key rotate` adds, `om key retire` drops\n");
        foreach (var secret in ring.Secrets)
            text.Append(CultureInfo.InvariantCulture,
                $"key {secret.Id} {Time(secret.Created)} {Time(secret.Active)} {Convert.ToBase64String(secret.Secret.AsSpan())}\n");
        return text.ToString();
    }

    private static ClusterSecret ParseLine(string line, int number)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 5 || words[0] != "key")
            throw new FormatException($"line {number}: expected `key ID CREATED ACTIVE SECRET`");
        if (!ushort.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new FormatException($"line {number}: key id `{words[1]}` is not a number from 0 to 65535");
        var created = ParseTime(words[2], number);
        var active = ParseTime(words[3], number);
        var secret = new byte[words[4].Length];
        if (!Convert.TryFromBase64String(words[4], secret, out var length))
            throw new FormatException($"line {number}: the secret is not base64");
        if (length < Keyring.MinSecretSize)
            throw new FormatException($"line {number}: the secret has {length} bytes, at least {Keyring.MinSecretSize} are needed");
        return new ClusterSecret(id, created, active, [.. secret.AsSpan(0, length)]);
    }

    private static DateTimeOffset ParseTime(string word, int number) =>
        DateTimeOffset.TryParseExact(word, TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new FormatException($"line {number}: `{word}` is not a UTC time like 2026-01-31T12:00:00Z");

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);
}
