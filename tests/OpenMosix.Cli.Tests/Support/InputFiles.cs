using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>Deterministic inputs: the same bytes in every run, so reference and checkpointed runs read the same data.</summary>
internal static class InputFiles
{
    /// <summary>A fixed mtime for inputs whose tools record it (gzip puts it in its header).</summary>
    public static readonly DateTime FixedTime = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly Lazy<string> SharedLargeFile = new(CreateSharedLargeFile);

    /// <summary>Pseudo-random bytes from a fixed-seed xorshift.</summary>
    public static void WriteRandom(string path, long size, ulong seed)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var block = new byte[1 << 20];
        var state = seed | 1;
        for (long written = 0; written < size; written += block.Length)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(block.AsSpan());
            for (var i = 0; i < words.Length; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                words[i] = state;
            }
            file.Write(block, 0, (int)Math.Min(block.Length, size - written));
        }
        File.SetLastWriteTimeUtc(path, FixedTime);
    }

    /// <summary>Compressible text: lines of words drawn with a fixed seed from a fixed vocabulary.</summary>
    public static void WriteText(string path, long size, int seed)
    {
        var random = new Random(seed);
        var words = Enumerable.Range(0, 4000)
            .Select(_ => new string([.. Enumerable.Range(0, random.Next(2, 10)).Select(_ => (char)('a' + random.Next(16)))]))
            .Select(Encoding.ASCII.GetBytes)
            .ToArray();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            long written = 0;
            while (written < size)
            {
                for (var w = 0; w < 12; w++)
                {
                    var word = words[random.Next(words.Length)];
                    file.Write(word);
                    file.WriteByte(w == 11 ? (byte)'\n' : (byte)' ');
                    written += word.Length + 1;
                }
            }
        }
        File.SetLastWriteTimeUtc(path, FixedTime);
    }

    /// <summary>
    /// One 300 MB file for the whole test run (generating it per test would dominate the run time); absolute path, so
    /// programs that print their argument print the same text in every run. Removed when the test process exits.
    /// </summary>
    public static string LargeFile => SharedLargeFile.Value;

    private static string CreateSharedLargeFile()
    {
        var dir = Directory.CreateTempSubdirectory("om-e2e-shared-").FullName;
        var path = Path.Combine(dir, "large.bin");
        WriteRandom(path, 300L << 20, 0x5eed);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        return path;
    }

    /// <summary>`tool -dc path` (xz, gzip): the decompressed bytes, so a restored compressor's output is checked as data too.</summary>
    public static byte[] Decompress(string tool, string path)
    {
        var info = new ProcessStartInfo(TestPaths.Installed(tool)) { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-dc");
        info.ArgumentList.Add(path);
        using var process = Process.Start(info)!;
        using var data = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(data);
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidDataException($"{tool} -dc {path} failed with {process.ExitCode}");
        return data.ToArray();
    }
}
