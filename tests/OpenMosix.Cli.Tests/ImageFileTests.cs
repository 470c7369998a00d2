using System.Buffers.Binary;
using System.IO.Hashing;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// A valid image of a running sleeper, taken once for the class. The sleeper ticks until SIGUSR1 (a `sleeper 40 50`
/// ended within its 2 s at load 100, before the checkpoint reached it), and is let go once its image is taken.
/// </summary>
public sealed class ValidImageFixture : IAsyncLifetime
{
    public const int TickMs = 50;

    private readonly TempDirectory dir = new("valid-image");

    public string ImagePath => dir.File("valid.omimg");

    public byte[] Bytes { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        using var process = RunningProcess.Start(HeldSleeper.Spec(dir.Path, TickMs));
        process.CloseStdin();
        await process.WaitForStdoutLinesAsync(3, TimeSpan.FromSeconds(20));
        if (process.HasExited) throw new InvalidOperationException($"the sleeper ended before its checkpoint, though it was never told to: {process.StderrText}");
        var checkpoint = await OmCli.CheckpointAsync(process.Pid, ImagePath, kill: false);
        if (checkpoint.ExitCode != 0) throw new InvalidOperationException("could not take the valid image: " + checkpoint);
        HeldSleeper.Release(process.Pid);
        var status = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (status != 0) throw new InvalidOperationException($"sleeper ended with {status} after a checkpoint without --kill");
        Bytes = await File.ReadAllBytesAsync(ImagePath);
    }

    public ValueTask DisposeAsync()
    {
        dir.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Image files as a user handles them: `om image info` describes one, and damaged images are refused by om restore
/// with one line on stderr, before any process runs.
/// </summary>
public sealed class ImageFileTests(ValidImageFixture valid) : IClassFixture<ValidImageFixture>
{
    // The file header: magic "OMXIMAGE" | u32 version | u32 flags | u64 reserved | u64 xxhash64 of the first 24 bytes.
    private const int VersionOffset = 8, HeaderChecksumOffset = 24;

    public static TheoryData<string> Damages => ["flipped middle byte", "truncated to half", "unknown version", "random garbage", "empty file"];

    [Fact]
    public async Task Image_of_a_process_left_running_restores_and_continues_from_the_checkpoint()
    {
        using var dir = new TempDirectory("om-e2e-" + "valid-restore");
        using var restored = OmCli.StartRestore(valid.ImagePath, dir.Path);
        restored.CloseStdin();
        // The copy ticks until it is let go: once it has printed, it is told to end (it is om restore's child).
        await restored.WaitForStdoutLinesAsync(2, TimeSpan.FromSeconds(20));
        var children = ProcFs.Children(restored.Pid);
        Assert.True(children.Count == 1, $"om restore (pid {restored.Pid}) should have exactly the restored process as child, has [{string.Join(", ", children)}]: {restored.StderrText}");
        HeldSleeper.Release(children[0]);
        var status = await restored.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(status == 0, $"om restore of the unmodified image exited {status}: {restored.StderrText}");
        var reference = await HeldSleeper.ReferenceAsync(HeldSleeper.Ticks(restored.StdoutBytes), ValidImageFixture.TickMs);

        // The copy starts where the image was taken: what it prints is the rest of the reference, from a line start.
        var rest = restored.StdoutBytes;
        var expected = reference.Stdout;
        Assert.True(rest.Length > 0 && rest.Length < expected.Length && expected.AsSpan().EndsWith(rest) &&
                    expected[expected.Length - rest.Length - 1] == (byte)'\n',
            $"the restored copy should print a tail of the reference output, printed: {restored.StdoutText}");
    }

    [Fact]
    public async Task Image_info_names_the_checkpointed_command()
    {
        var info = await OmCli.ImageInfoAsync(valid.ImagePath);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("sleeper", info.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Restore_rejects_a_damaged_image_with_one_line_and_starts_nothing(string damage)
    {
        using var dir = new TempDirectory("om-e2e-" + "corrupt");
        var path = dir.File("damaged.omimg");
        await File.WriteAllBytesAsync(path, Damage(valid.Bytes, damage), TestContext.Current.CancellationToken);

        using var restore = OmCli.StartRestore(path, dir.Path);
        restore.CloseStdin();
        var status = await restore.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var error = restore.StderrText.TrimEnd('\n');
        TestLog.Line($"om restore of an image with {damage}: exit {status}, stderr: {error}");

        Assert.True(status != 0, $"om restore accepted an image with {damage}");
        Assert.True(error.Length > 0 && !error.Contains('\n'), $"expected one line on stderr, got: {restore.StderrText}");
        Assert.True(restore.StdoutLength == 0, $"the damaged image's process ran and printed: {restore.StdoutText}");
        if (damage == "unknown version") Assert.Contains("version", error, StringComparison.OrdinalIgnoreCase);
    }

    private static byte[] Damage(byte[] image, string damage)
    {
        var bytes = (byte[])image.Clone();
        switch (damage)
        {
            case "flipped middle byte":
                bytes[bytes.Length / 2] ^= 0xff;
                return bytes;
            case "truncated to half":
                return bytes[..(bytes.Length / 2)];
            case "unknown version":
                // A well-formed header from a future format: only the version check can refuse it.
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(VersionOffset), 99);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(HeaderChecksumOffset), XxHash64.HashToUInt64(bytes.AsSpan(0, HeaderChecksumOffset)));
                return bytes;
            case "random garbage":
                var garbage = new byte[64 * 1024];
                new Random(0x6a7ba6e).NextBytes(garbage);
                return garbage;
            case "empty file":
                return [];
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, "unknown kind of damage");
        }
    }
}
