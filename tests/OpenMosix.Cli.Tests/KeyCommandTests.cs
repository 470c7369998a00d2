using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>`om keygen` and `om key rotate|retire|list` as an administrator runs them.</summary>
public sealed class KeyCommandTests
{
    [Fact]
    public async Task Keygen_then_rotate_leaves_a_0600_keyring_with_a_new_key_and_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cluster.key");
        Assert.Equal(0, (await OmCli.RunAsync(["keygen", path])).ExitCode);
        var rotated = await OmCli.RunAsync(["key", "rotate", path, "--activate-after", "0"]);

        Assert.Equal(0, rotated.ExitCode);
        Assert.StartsWith($"added key 2 to {path}", rotated.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFiles(dir.Path));
        var list = await OmCli.RunAsync(["key", "list", path]);
        Assert.Contains("2 ", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("(sending)", list.Stdout.Split('\n').Single(l => l.StartsWith("2 ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotating_a_key_file_of_the_first_format_keeps_it_as_key_0_until_retired()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cluster.key");
        File.WriteAllBytes(path, new byte[32]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var rotated = await OmCli.RunAsync(["key", "rotate", path, "--activate-after", "0"]);
        Assert.Contains("keys now 0,1", rotated.Stdout, StringComparison.Ordinal);
        var retired = await OmCli.RunAsync(["key", "retire", path, "--older-than", "1d"]);
        Assert.Equal(0, retired.ExitCode);
        Assert.Contains("now holds keys 1", retired.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_loose_key_file_and_a_bad_duration_are_one_line_errors()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cluster.key");
        Assert.Equal(0, (await OmCli.RunAsync(["keygen", path])).ExitCode);
        var bad = await OmCli.RunAsync(["key", "rotate", path, "--activate-after", "soon"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Equal("om: --activate-after: `soon` is not a duration like 90s, 10m, 2h or 30d\n", bad.Stderr);

        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        var loose = await OmCli.RunAsync(["key", "rotate", path]);
        Assert.NotEqual(0, loose.ExitCode);
        Assert.Equal($"om: {path} is open to group or others (mode 644): chmod 600 {path}\n", loose.Stderr);
        Assert.NotEqual(0, (await OmCli.RunAsync(["keygen", path])).ExitCode);
    }
}
