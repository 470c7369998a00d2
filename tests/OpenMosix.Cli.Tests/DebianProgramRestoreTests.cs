using System.Text;
using OpenMosix.Cli.Tests.Support;
using static OpenMosix.Cli.Tests.Support.Scenario;

namespace OpenMosix.Cli.Tests;

/// <summary>Unmodified Debian programs (python3, bc, xz, gzip, sha256sum) checkpointed mid-run and restored.</summary>
public sealed class DebianProgramRestoreTests
{
    private const string PythonScript = """
        kept = []
        for block in range(40):
            total = sum((i * i) % 1000003 for i in range(block * 500000, (block + 1) * 500000))
            kept.append(str(total) * 50)
            print(block, total, len("".join(kept)), flush=True)
        print("python done", sum(len(k) for k in kept), flush=True)

        """;

    [Fact]
    public Task Python_computation_printing_as_it_goes_finishes_identically() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "python3 -u compute.py",
        Prepare = dir => File.WriteAllText(Path.Combine(dir, "compute.py"), PythonScript),
        Command = dir => new ProcessSpec(TestPaths.Installed("python3"), ["-u", "compute.py"], dir),
        Ready = PrintedLines(3),
        ReadyDescription = "python printed three blocks",
        MaxExtraDelay = TimeSpan.FromMilliseconds(700),
    });

    [Fact]
    public Task Bc_computing_pi_prints_the_same_digits_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "bc -l <<< scale=2500; 4*a(1)",
        Command = dir => new ProcessSpec(TestPaths.Installed("bc"), ["-l"], dir, Encoding.ASCII.GetBytes("scale=2500; 4*a(1)\n")),
        Ready = UsedCpu(TimeSpan.FromMilliseconds(300)),
        ReadyDescription = "bc has computed for 300 ms of CPU",
        MaxExtraDelay = TimeSpan.FromMilliseconds(900),
    });

    [Fact]
    public Task Xz_compressing_a_file_writes_an_identical_archive_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "xz -T1 -6 -k input.txt(3MB text)",
        Prepare = dir => InputFiles.WriteText(Path.Combine(dir, "input.txt"), 3_000_000, 61),
        Command = dir => new ProcessSpec(TestPaths.Installed("xz"), ["-T1", "-6", "-k", "input.txt"], dir),
        Ready = process => ProcFs.BytesRead(process.Pid) > 0 && ProcFs.CpuTicks(process.Pid) >= 30,
        ReadyDescription = "xz has read input and compressed for 300 ms of CPU",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
        CollectFiles = dir => Compressed(dir, "xz", "input.txt.xz"),
    });

    [Fact]
    public Task Gzip_compressing_a_file_writes_an_identical_archive_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "gzip -9 -k input.txt(40MB text)",
        Prepare = dir => InputFiles.WriteText(Path.Combine(dir, "input.txt"), 40_000_000, 62),
        Command = dir => new ProcessSpec(TestPaths.Installed("gzip"), ["-9", "-k", "input.txt"], dir),
        Ready = ReadBytes(4 << 20),
        ReadyDescription = "gzip has read 4 MB",
        MaxExtraDelay = TimeSpan.FromMilliseconds(500),
        CollectFiles = dir => Compressed(dir, "gzip", "input.txt.gz"),
    });

    [Fact]
    public Task Sha256sum_of_a_large_file_prints_the_same_digest_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "sha256sum large.bin(300MB)",
        Command = dir => new ProcessSpec(TestPaths.Installed("sha256sum"), [InputFiles.LargeFile], dir),
        Ready = ReadBytes(24 << 20),
        ReadyDescription = "sha256sum has read 24 MB",
        MaxExtraDelay = TimeSpan.FromMilliseconds(250),
    });

    /// <summary>The archive byte for byte, and what it decompresses to (which must be the input).</summary>
    private static Dictionary<string, byte[]> Compressed(string dir, string tool, string archive)
    {
        var path = Path.Combine(dir, archive);
        var decompressed = InputFiles.Decompress(tool, path);
        Assert.True(decompressed.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir, "input.txt"))),
            $"{archive} does not decompress to input.txt");
        return new() { [archive] = File.ReadAllBytes(path), [archive + " decompressed"] = decompressed };
    }
}
