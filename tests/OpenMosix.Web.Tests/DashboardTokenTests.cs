using OpenMosix.Daemon.Web.Dashboard;
using OpenMosix.TestSupport;

namespace OpenMosix.Web.Tests;

/// <summary>Root's dashboard token: a file only root reads, new at every start, checked whole.</summary>
public sealed class DashboardTokenTests
{
    [Fact]
    public void The_token_is_written_for_root_alone_and_removed_when_omd_stops()
    {
        using var directory = new TempDirectory();
        var path = Path.Join(directory.Path, DashboardToken.FileName);
        File.WriteAllText(path, "an old token\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using (var token = DashboardToken.Create(directory.Path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(token.Value + "\n", File.ReadAllText(path));
            Assert.Equal(43, token.Value.Length);
            Assert.Matches("^[A-Za-z0-9_-]+$", token.Value);
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Only_the_whole_token_as_a_bearer_is_accepted()
    {
        var token = DashboardToken.Random();

        Assert.True(token.Accepts($"Bearer {token.Value}"));
        Assert.False(token.Accepts(token.Value));
        Assert.False(token.Accepts($"Bearer {token.Value[..^1]}"));
        Assert.False(token.Accepts($"Bearer {DashboardToken.Random().Value}"));
        Assert.False(token.Accepts(null));
        Assert.NotEqual(token.Value, DashboardToken.Random().Value);
    }
}
