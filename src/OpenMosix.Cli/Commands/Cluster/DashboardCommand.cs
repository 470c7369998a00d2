using OpenMosix.Daemon.Web.Dashboard;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>
/// om dashboard: the URL of omd's web dashboard with root's token in its fragment (never sent to the server, so
/// never in a log); whoever opens it may move processes by dragging them onto a node. Only root may have it.
/// </summary>
internal static class DashboardCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5726";

    public static Command Create()
    {
        var url = new Option<string>("--url")
        {
            Description = $"Where omd's web listener is (default {DefaultUrl}; https://ADDRESS:PORT when it listens off loopback).",
            DefaultValueFactory = _ => DefaultUrl,
        };
        var json = new Option<bool>("--json") { Description = "Print the URL and the token file it was read from as JSON." };
        var command = new Command("dashboard",
            "Print the URL of omd's web dashboard (openMosixview's successor) with root's token: opened in a browser, " +
            "it shows every node, its load and memory history, this node's processes and its migrations, and moves a " +
            "process dragged onto a node. omd makes a new token at every start (web.token beside its socket, mode 0600). " +
            "Only root may have it; the dashboard without it is read-only.")
        {
            url,
            json,
        };
        command.SetAction(parse =>
        {
            var address = parse.GetValue(url)!.TrimEnd('/');
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new UsageException($"--url '{address}' is not an http:// or https:// address");
            if (!Environment.IsPrivilegedProcess)
                throw new CommandFailedException(
                    $"only root may have the dashboard's token; the read-only dashboard is at {address}/");
            var path = Path.Join(Path.GetDirectoryName(AdminPaths.Socket), DashboardToken.FileName);
            if (!File.Exists(path))
                throw new CommandFailedException($"no dashboard token at {path}: is omd running?");
            var link = $"{address}/#token={File.ReadAllText(path).Trim()}";
            JsonOutput.Print(parse, json, new DashboardJson(link, path), CliJsonContext.Default.DashboardJson, () => Console.WriteLine(link));
            return 0;
        });
        return command;
    }
}
