using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace OpenMosix.Web.Tests;

/// <summary>The dashboard page in chromium: the cluster, the processes and the charts, kept current without a reload.</summary>
public sealed class DashboardPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task The_page_shows_one_element_per_node_of_a_three_node_cluster()
    {
        await using var world = await new DashboardWorld().StartAsync();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(world.Url);

        await Expect(page.Locator("#nodes [data-node-id]")).ToHaveCountAsync(3);
        foreach (var id in new[] { 1, 2, 3 })
            await Expect(page.Locator($"[data-node-id=\"{id}\"]")).ToHaveAttributeAsync("data-state", "alive");
        await Expect(page.Locator("[data-node-id=\"2\"] .load")).ToHaveTextAsync("0.20");
        await Expect(page.Locator("[data-node-id=\"3\"] .cpus")).ToHaveTextAsync("2");
        await Expect(page.Locator("[data-node-id=\"1\"]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bself\b"));
    }

    [Fact]
    public async Task A_node_that_stopped_gossiping_is_shown_dead()
    {
        await using var world = await new DashboardWorld().StartAsync();
        world.Nodes.TakeDown(3);
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(world.Url);

        var dead = page.Locator("[data-node-id=\"3\"]");
        await Expect(dead).ToHaveAttributeAsync("data-state", "dead");
        await Expect(dead.Locator(".state")).ToHaveTextAsync("dead");
        await Expect(page.Locator("[data-node-id=\"2\"]")).ToHaveAttributeAsync("data-state", "alive");
        // Drawn distinctly: a dead node's border is not an alive node's.
        var borders = await page.EvaluateAsync<string[]>(
            "() => [2, 3].map(id => getComputedStyle(document.querySelector(`[data-node-id=\"${id}\"]`)).borderTopColor)");
        Assert.NotEqual(borders[0], borders[1]);
    }

    [Fact]
    public async Task The_processes_of_this_node_appear_as_rows_with_where_they_run()
    {
        await using var world = await new DashboardWorld().StartAsync();
        world.RegisterChild();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(world.Url);

        var row = page.Locator($"#procs tr[data-pid=\"{world.Child.Pid}\"]");
        await Expect(row).ToHaveAttributeAsync("data-state", "home");
        await Expect(row.Locator("td").Nth(1)).ToContainTextAsync("sleep");
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("node 1");
    }

    [Fact]
    public async Task The_history_charts_get_a_point_per_reading_of_a_node()
    {
        await using var world = await new DashboardWorld().StartAsync();
        for (var reading = 0; reading < 3; reading++)
        {
            world.Nodes.SetLoad(2, 0.5 + reading, (ulong)(reading + 1) << 30);
            world.History.Record(world.Nodes.View(), world.Nodes.Now);
        }
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(world.Url);

        var node = page.Locator("[data-node-id=\"2\"]");
        await Expect(node.Locator("[data-chart=\"load\"]")).ToHaveAttributeAsync("data-points", "3");
        await Expect(node.Locator("[data-chart=\"memory\"]")).ToHaveAttributeAsync("data-points", "3");
        var points = await node.Locator("[data-chart=\"load\"] polyline").GetAttributeAsync("points");
        Assert.Equal(3, points?.Split(' ').Length);

        world.History.Record(world.Nodes.View(), world.Nodes.Now.AddSeconds(2));
        await Expect(node.Locator("[data-chart=\"load\"]")).ToHaveAttributeAsync("data-points", "4");
    }

    [Fact]
    public async Task A_load_change_gossiped_by_a_node_reaches_the_page_without_a_reload()
    {
        await using var world = await new DashboardWorld().StartAsync();
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(world.Url);
        var load = page.Locator("[data-node-id=\"2\"] .load");
        await Expect(load).ToHaveTextAsync("0.20");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        world.Nodes.SetLoad(2, 3.5, 1UL << 30);

        await Expect(load).ToHaveTextAsync("3.50");
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-live", "live");
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
    }

    [Fact]
    public async Task A_browser_without_server_sent_events_polls_and_still_sees_changes()
    {
        await using var world = await new DashboardWorld().StartAsync();
        var page = await chromium.NewPageAsync();
        await page.AddInitScriptAsync("delete window.EventSource;");
        await page.GotoAsync(world.Url);
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-live", "polling");

        world.Nodes.SetLoad(3, 1.25, 1UL << 30);

        await Expect(page.Locator("[data-node-id=\"3\"] .load")).ToHaveTextAsync("1.25");
    }
}
