using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using NSec.Cryptography;

// The candidates for a node link's record cipher, sealing and opening in place on one thread, at the record sizes the
// link sends (1 MiB image frames, 64 KiB, 4 KiB control and stdio frames): GB per CPU second of this thread, the
// best of a few passes (a loaded machine takes the core away now and then; CPU time counts only what ran).
// AES-GCM and ChaCha20-Poly1305 are .NET's (the system OpenSSL), AEGIS through NSec (the libsodium it bundles).
var totalMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 512;
int[] sizes = [1 << 20, 64 << 10, 4 << 10];
var header = new byte[5];
Console.WriteLine($"bench/aead: {totalMiB} MiB per pass, best of 3 passes, GB per CPU second (one thread); load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine($"{"AEAD",-22} {"record",8} {"seal",7} {"open",7}");
foreach (var size in sizes)
{
    var buffer = RandomNumberGenerator.GetBytes(size + 32);
    Row("AES-128-GCM (OpenSSL)", size, Gcm(16, buffer, size));
    Row("AES-256-GCM (OpenSSL)", size, Gcm(32, buffer, size));
    Row("ChaCha20-Poly1305", size, ChaCha(buffer, size));
    Row("AEGIS-128L (libsodium)", size, Sodium(AeadAlgorithm.Aegis128L, buffer, size));
    Row("AEGIS-256 (libsodium)", size, Sodium(AeadAlgorithm.Aegis256, buffer, size));
    Row("memcpy (for scale)", size, (() => buffer.AsSpan(0, size).CopyTo(buffer.AsSpan(16)), () =>
    {
        buffer.AsSpan(16, size).CopyTo(buffer);
        return true;
    }));
}
return 0;

void Row(string name, int size, (Action Seal, Func<bool> Open) aead)
{
    var seal = Rate(aead.Seal, size);
    // Open what was sealed last: the same record each time, so the tag always checks.
    aead.Seal();
    var open = Rate(() => { if (!aead.Open()) throw new InvalidOperationException($"{name} did not open its own record"); }, size);
    Console.WriteLine($"{name,-22} {Size(size),8} {seal,7:F2} {open,7:F2}");
}

double Rate(Action run, int size)
{
    var calls = Math.Max(1, (long)totalMiB * 1024 * 1024 / size);
    for (var i = 0; i < Math.Min(calls, 64); i++) run();
    var best = double.MaxValue;
    for (var pass = 0; pass < 3; pass++)
    {
        var cpu = ThreadCpu();
        for (long i = 0; i < calls; i++) run();
        best = Math.Min(best, (ThreadCpu() - cpu).TotalSeconds);
    }
    return calls * (double)size / best / 1e9;
}

// The tag after the payload, as on the wire: sealed in place, opened into a second buffer (as the link's reader does:
// from its pooled record buffer into the frame's own array).
(Action, Func<bool>) Gcm(int keySize, byte[] buffer, int size)
{
    var aes = new AesGcm(RandomNumberGenerator.GetBytes(keySize), 16);
    var nonce = new byte[12];
    var opened = new byte[size];
    return (() => aes.Encrypt(nonce, buffer.AsSpan(0, size), buffer.AsSpan(0, size), buffer.AsSpan(size, 16), header),
        () => { aes.Decrypt(nonce, buffer.AsSpan(0, size), buffer.AsSpan(size, 16), opened, header); return true; });
}

(Action, Func<bool>) ChaCha(byte[] buffer, int size)
{
    var chacha = new System.Security.Cryptography.ChaCha20Poly1305(RandomNumberGenerator.GetBytes(32));
    var nonce = new byte[12];
    var opened = new byte[size];
    return (() => chacha.Encrypt(nonce, buffer.AsSpan(0, size), buffer.AsSpan(0, size), buffer.AsSpan(size, 16), header),
        () => { chacha.Decrypt(nonce, buffer.AsSpan(0, size), buffer.AsSpan(size, 16), opened, header); return true; });
}

(Action, Func<bool>) Sodium(AeadAlgorithm algorithm, byte[] plain, int size)
{
    var key = Key.Import(algorithm, RandomNumberGenerator.GetBytes(algorithm.KeySize), KeyBlobFormat.RawSymmetricKey);
    var nonce = new byte[algorithm.NonceSize];
    var sealedRecord = new byte[size + algorithm.TagSize];
    return (() => algorithm.Encrypt(key, nonce, header, plain.AsSpan(0, size), sealedRecord),
        () => algorithm.Decrypt(key, nonce, header, sealedRecord, plain.AsSpan(0, size)));
}

static TimeSpan ThreadCpu()
{
    // CLOCK_THREAD_CPUTIME_ID through /proc would cost a file read; the process's time is close enough on an otherwise
    // idle process (this one runs one thread that works).
    return Process.GetCurrentProcess().TotalProcessorTime;
}

static string Size(int bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
