using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>omd's dashboard token as root finds it with `om dashboard`, and as nobody else does.</summary>
public sealed class DashboardCommandTests
{
    [Fact]
    public void Omd_writes_a_new_root_only_token_that_om_dashboard_prints_in_the_url_fragment_and_removes_it_when_it_stops()
    {
        string path;
        using (var cluster = new LoopbackCluster(1))
        {
            cluster.Start(1);
            path = Path.Join(Path.GetDirectoryName(cluster.SocketPath(1)), "web.token");
            Poll.Until(() => File.Exists(path), TimeSpan.FromSeconds(10), "omd to write its dashboard token");

            var printed = cluster.Om(1, "dashboard");

            var token = File.ReadAllText(path).Trim();
            Assert.Equal((0, $"http://127.0.0.1:5726/#token={token}\n"), (printed.ExitCode, printed.Stdout));
            Assert.Matches("^[A-Za-z0-9_-]{43}$", token);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal("https://10.0.0.1:5726/#token=" + token,
                cluster.Om(1, "dashboard", "--url", "https://10.0.0.1:5726/").Stdout.Trim());
            using var json = System.Text.Json.JsonDocument.Parse(cluster.Om(1, "dashboard", "--json").Stdout);
            Assert.Equal(($"http://127.0.0.1:5726/#token={token}", path),
                (json.RootElement.GetProperty("url").GetString(), json.RootElement.GetProperty("tokenFile").GetString()));

            var env = new Dictionary<string, string> { ["OM_SOCKET"] = cluster.SocketPath(1) };
            var refused = CommandRun.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", OmBinary.Path, "dashboard"], env);
            Assert.Equal((1, "", "om: only root may have the dashboard's token; the read-only dashboard is at http://127.0.0.1:5726/\n"),
                (refused.ExitCode, refused.Stdout, refused.Stderr));
        }

        Assert.False(File.Exists(path), "the token outlived omd");
    }
}
