using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The AEADs a link's records can go under, one bit each: every end lists those it has in its hello (inside TLS, so
/// nobody on the path can strike one out), and both take the first of <see cref="RecordCiphers.Preference"/> that both
/// listed. AES-128-GCM comes from the system OpenSSL and every node has it; AEGIS from the libsodium that NSec bundles,
/// which a node may lack (then it lists AES-128-GCM alone, and still talks to everyone).
/// </summary>
[Flags]
public enum RecordCipher : byte
{
    None = 0,
    Aes128Gcm = 1,
    Aegis128L = 2,
    Aegis256 = 4,
}

public static class RecordCiphers
{
    /// <summary>Fastest first, as measured by bench/aead (docs/performance.md): AEGIS-128L ran several times AES-GCM's
    /// speed on AES-NI here, AEGIS-256 between them.</summary>
    public static IReadOnlyList<RecordCipher> Preference { get; } = [RecordCipher.Aegis128L, RecordCipher.Aegis256, RecordCipher.Aes128Gcm];

    private static readonly Lazy<(RecordCipher Ciphers, string? Missing)> Probe = new(ProbeLibsodium);

    /// <summary>The ciphers this process can run: AES-128-GCM, and AEGIS when libsodium loaded.</summary>
    public static RecordCipher Supported => Probe.Value.Ciphers;

    /// <summary>Why AEGIS is missing here (libsodium not found or not the version NSec needs), or null.</summary>
    public static string? Missing => Probe.Value.Missing;

    /// <summary>The first cipher in <see cref="Preference"/> both ends listed, or <see cref="RecordCipher.None"/>: how the
    /// dialling end reads the accepting end's answer, which names the one cipher it chose (or, from an omd before
    /// link.record_ciphers, its whole list, from which it chose by this same order).</summary>
    public static RecordCipher Choose(RecordCipher ours, RecordCipher theirs) =>
        Preference.FirstOrDefault(cipher => (ours & theirs & cipher) != 0);

    /// <summary>The accepting end's choice: the first cipher of its own order (link.record_ciphers) the dialling end
    /// listed too, or <see cref="RecordCipher.None"/>.</summary>
    public static RecordCipher Choose(IReadOnlyList<RecordCipher> ourOrder, RecordCipher theirs)
    {
        ArgumentNullException.ThrowIfNull(ourOrder);
        return ourOrder.FirstOrDefault(cipher => (theirs & cipher) != 0);
    }

    /// <summary>The ciphers of a list as one set (the bits a hello carries).</summary>
    public static RecordCipher Set(IEnumerable<RecordCipher> ciphers) =>
        ciphers.Aggregate(RecordCipher.None, (set, cipher) => set | cipher);

    /// <summary>The cipher a name (as omd.toml and the logs write it) stands for, or null.</summary>
    public static RecordCipher? Parse(string name) =>
        Preference.Select(cipher => (RecordCipher?)cipher).FirstOrDefault(cipher => Name(cipher!.Value) == name);

    /// <summary>The names of a list in its own order, as omd.toml takes them ("none" for none).</summary>
    public static string Describe(IReadOnlyList<RecordCipher> order) =>
        order.Count == 0 ? "none" : string.Join(", ", order.Select(Name));

    public static string Name(RecordCipher cipher) => cipher switch
    {
        RecordCipher.Aes128Gcm => "aes-128-gcm",
        RecordCipher.Aegis128L => "aegis-128l",
        RecordCipher.Aegis256 => "aegis-256",
        _ => throw new ArgumentOutOfRangeException(nameof(cipher), cipher, "not one record cipher"),
    };

    /// <summary>The ciphers in a list as people read them, in order of preference ("none" for none).</summary>
    public static string Describe(RecordCipher ciphers)
    {
        var names = Preference.Where(cipher => (ciphers & cipher) != 0).Select(Name).ToList();
        var unknown = (byte)(ciphers & ~(RecordCipher.Aes128Gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256));
        if (unknown != 0) names.Add($"unknown (0x{unknown:x2})");
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    internal static int KeySize(RecordCipher cipher) => cipher switch
    {
        RecordCipher.Aes128Gcm => 16,
        RecordCipher.Aegis128L => AeadAlgorithm.Aegis128L.KeySize,
        RecordCipher.Aegis256 => AeadAlgorithm.Aegis256.KeySize,
        _ => throw new ArgumentOutOfRangeException(nameof(cipher)),
    };

    internal static int NonceSize(RecordCipher cipher) => cipher switch
    {
        RecordCipher.Aes128Gcm => 12,
        RecordCipher.Aegis128L => AeadAlgorithm.Aegis128L.NonceSize,
        RecordCipher.Aegis256 => AeadAlgorithm.Aegis256.NonceSize,
        _ => throw new ArgumentOutOfRangeException(nameof(cipher)),
    };

    internal static RecordAead Create(RecordCipher cipher, ReadOnlySpan<byte> key) => cipher switch
    {
        RecordCipher.Aes128Gcm => new GcmRecords(key),
        RecordCipher.Aegis128L => new SodiumRecords(AeadAlgorithm.Aegis128L, key),
        RecordCipher.Aegis256 => new SodiumRecords(AeadAlgorithm.Aegis256, key),
        _ => throw new ArgumentOutOfRangeException(nameof(cipher)),
    };

    private static (RecordCipher, string?) ProbeLibsodium()
    {
        var gcm = AesGcm.IsSupported ? RecordCipher.Aes128Gcm : RecordCipher.None;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(AeadAlgorithm).Assembly, FindLibsodium);
            // NSec loads libsodium, checks its version and runs its self-tests here.
            _ = AeadAlgorithm.Aegis128L.KeySize + AeadAlgorithm.Aegis256.KeySize;
            return (gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256, null);
        }
        catch (Exception e) when (e is PlatformNotSupportedException or DllNotFoundException or EntryPointNotFoundException
                                       or InvalidOperationException or TypeInitializationException)
        {
            // The loader's own message lists every path it tried, several lines' worth: one line says as much.
            return (gcm, (e.InnerException ?? e) is DllNotFoundException
                ? "libsodium.so not found beside om, in ../lib/openmosix or on the system's library path"
                : $"libsodium did not load: {(e.InnerException ?? e).Message}");
        }
    }

    /// <summary>
    /// The libsodium om ships: beside the binary (artifacts/bin, where publishing puts it), or in ../lib/openmosix
    /// (where install.sh and the package put it, out of bin/); else wherever the system's loader finds one of that name.
    /// NSec accepts only the version it was built for, so a system libsodium of another version leaves AEGIS out.
    /// </summary>
    private static IntPtr FindLibsodium(string name, System.Reflection.Assembly assembly, DllImportSearchPath? paths)
    {
        if (name != "libsodium") return IntPtr.Zero;
        foreach (var candidate in new[] { "libsodium.so", "../lib/openmosix/libsodium.so" }.Select(file => Path.Combine(AppContext.BaseDirectory, file)))
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
