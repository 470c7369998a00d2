using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using OpenMosix.Admin;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Measurement;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace OpenMosix.Web.Tests;

/// <summary>migmon in the browser: a process dragged onto a node moves there, for root's token only.</summary>
public sealed class DashboardMoveTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Dragging_a_process_onto_a_node_with_the_token_asks_the_admin_migrate_route_for_that_pid_and_node()
    {
        await using var world = await new DashboardWorld().StartAsync();
        world.RegisterChild();
        var asked = new ConcurrentQueue<(string Path, string Target)>();
        world.Admin = request =>
        {
            var order = JsonSerializer.Deserialize(request.Body, AdminJsonContext.Default.MigrateRequest)!;
            asked.Enqueue((request.Path, order.Target));
            return HttpResponse.Json(new MigrationResult(world.Child.Pid, 1, 2, 4096, 12, 777), AdminJsonContext.Default.MigrationResult);
        };
        var page = await chromium.NewPageAsync();
        await page.GotoAsync($"{world.Url}#token={world.Token.Value}");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-mode", "root");
        // The token leaves the address bar (and so the history) at once; the tab keeps it.
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);

        await page.Locator($"#procs tr[data-pid=\"{world.Child.Pid}\"]").DragToAsync(page.Locator("[data-node-id=\"2\"]"));

        await Expect(page.Locator("#move-result")).ToHaveTextAsync($"process {world.Child.Pid} moved from node 1 to node 2 (frozen 12 ms)");
        Assert.Equal([($"/v1/procs/{world.Child.Pid}/migrate", "2")], asked.ToArray());
    }

    [Fact]
    public async Task Dragging_a_root_process_runs_the_real_migrate_route_and_shows_its_refusal_and_the_failed_move()
    {
        await using var world = await new DashboardWorld().StartAsync();
        var process = world.RegisterChild();
        using var engine = new CheckpointEngine(NullLoggerFactory.Instance);
        using var deputies = new EngineDeputies(engine);
        using var pki = new TestPki();
        var migration = new HomeMigration(new EngineMigration(engine), deputies, world.Registry, () => 1, _ => null, world.Nodes.View,
            pki.Links(1, IPAddress.Loopback, _ => IPAddress.Loopback), NullLogger.Instance) { MoveEnded = world.Migrations.Record };
        var cgroup = CgroupV1.OfSelf();
        var routes = new AdminRoutes(world.Nodes.Self, new LocalSampler(cgroup, LocalSampler.Discover(cgroup, 1000), TimeSpan.FromSeconds(1)),
            DateTimeOffset.UtcNow, world.Registry, migration);
        world.Admin = request => routes.Handle(request, new OpenMosix.Linux.PeerCredentials(Environment.ProcessId, 0, 0));
        var page = await chromium.NewPageAsync();
        await page.GotoAsync($"{world.Url}#token={world.Token.Value}");

        await page.Locator($"#procs tr[data-pid=\"{process.Pid}\"]").DragToAsync(page.Locator("[data-node-id=\"3\"]"));

        // The test runs as root, and root's processes stay home unless migration.allow_root_guests says otherwise.
        var result = page.Locator("#move-result");
        await Expect(result).ToHaveAttributeAsync("data-result", "failed");
        await Expect(result).ToContainTextAsync($"process {process.Pid} did not move: process {process.Pid} cannot move");
        await Expect(result).ToContainTextAsync("allow_root_guests");
        var history = page.Locator($"#migrations tr[data-pid=\"{process.Pid}\"]");
        await Expect(history).ToHaveAttributeAsync("data-result", "failed");
        await Expect(history.Locator("td").Nth(4)).ToHaveTextAsync("node 3");
    }

    [Fact]
    public async Task Without_the_token_the_page_is_read_only_and_a_move_is_answered_401()
    {
        await using var world = await new DashboardWorld().StartAsync();
        world.RegisterChild();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(world.Url);

        await Expect(page.Locator("#session")).ToHaveTextAsync("read-only");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-mode", "read-only");
        var row = page.Locator($"#procs tr[data-pid=\"{world.Child.Pid}\"]");
        await Expect(row).ToBeVisibleAsync();
        Assert.Null(await row.GetAttributeAsync("draggable"));
        var status = await page.EvaluateAsync<int>(
            "pid => fetch(`/api/procs/${pid}/migrate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, " +
            "body: JSON.stringify({ node: 2 }) }).then(r => r.status)", world.Child.Pid);
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task A_wrong_token_leaves_the_page_read_only_and_says_so()
    {
        await using var world = await new DashboardWorld().StartAsync();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync($"{world.Url}#token=not-the-token");

        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-mode", "read-only");
        await Expect(page.Locator("#session")).ToContainTextAsync("the token is not valid");
    }
}
