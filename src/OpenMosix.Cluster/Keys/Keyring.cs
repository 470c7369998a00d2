using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Keys;

/// <summary>One secret of the cluster keyring.</summary>
/// <param name="Id">Travels in every packet so the receiver picks the right secret.</param>
/// <param name="Created">When `om key rotate` made it; retirement goes by this.</param>
/// <param name="Active">From when senders use it: later than <paramref name="Created"/> so the new file can reach every
/// node before anyone sends under the new key.</param>
public sealed record ClusterSecret(ushort Id, DateTimeOffset Created, DateTimeOffset Active, ImmutableArray<byte> Secret)
{
    public const int Size = 32;
}

/// <summary>
/// The cluster's shared secrets: senders use the newest active one, receivers accept any. Immutable; rotation makes a
/// new ring. See docs/gossip.md (keyring).
/// </summary>
public sealed class Keyring
{
    public const int MinSecretSize = 16;

    private Keyring(ImmutableArray<ClusterSecret> secrets) => Secrets = secrets;

    /// <summary>The secrets by increasing id.</summary>
    public ImmutableArray<ClusterSecret> Secrets { get; }

    public static Keyring Of(IEnumerable<ClusterSecret> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var sorted = secrets.OrderBy(s => s.Id).ToImmutableArray();
        if (sorted.IsEmpty)
            throw new ArgumentException("a keyring needs at least one key", nameof(secrets));
        for (var i = 0; i < sorted.Length; i++)
        {
            if (sorted[i].Secret.Length < MinSecretSize)
                throw new ArgumentException($"key {sorted[i].Id} has {sorted[i].Secret.Length} bytes, at least {MinSecretSize} are needed", nameof(secrets));
            if (i > 0 && sorted[i].Id == sorted[i - 1].Id)
                throw new ArgumentException($"key id {sorted[i].Id} appears twice", nameof(secrets));
        }
        return new Keyring(sorted);
    }

    /// <summary>A ring of one secret, valid since <paramref name="now"/>: what `om keygen` writes.</summary>
    public static Keyring Fresh(ushort id, DateTimeOffset now) =>
        Of([new ClusterSecret(id, now, now, [.. RandomNumberGenerator.GetBytes(ClusterSecret.Size)])]);

    public bool TryGet(ushort id, [MaybeNullWhen(false)] out ClusterSecret secret)
    {
        foreach (var candidate in Secrets)
        {
            if (candidate.Id == id)
            {
                secret = candidate;
                return true;
            }
        }
        secret = null;
        return false;
    }

    /// <summary>
    /// The secret to send under at <paramref name="now"/>: the newest already active one, or, when none is active yet
    /// (a clock far behind), the one to become active first, so a node always has something to send.
    /// </summary>
    public ClusterSecret SendingAt(DateTimeOffset now)
    {
        ClusterSecret? best = null;
        foreach (var secret in Secrets)
            if (secret.Active <= now && (best is null || (secret.Active, secret.Id).CompareTo((best.Active, best.Id)) > 0))
                best = secret;
        return best ?? Secrets.MinBy(s => s.Active)!;
    }

    /// <summary>A ring with one more fresh secret, its id above every other, used for sending from <paramref name="activeAt"/>.</summary>
    public Keyring WithFreshSecret(DateTimeOffset now, DateTimeOffset activeAt)
    {
        var last = Secrets[^1].Id;
        if (last == ushort.MaxValue)
            throw new InvalidOperationException("key id 65535 is taken: start a new keyring with `om keygen`");
        return Of([.. Secrets, new ClusterSecret((ushort)(last + 1), now, activeAt, [.. RandomNumberGenerator.GetBytes(ClusterSecret.Size)])]);
    }

    /// <summary>
    /// The ring without the secrets created before <paramref name="cutoff"/>. The secret in use for sending at
    /// <paramref name="now"/> and every newer one always stay: retiring must never leave a node nothing to send under.
    /// </summary>
    public Keyring WithoutSecretsBefore(DateTimeOffset cutoff, DateTimeOffset now)
    {
        var sending = SendingAt(now);
        return Of(Secrets.Where(s => s.Created >= cutoff || s.Id == sending.Id || s.Active > sending.Active));
    }
}
