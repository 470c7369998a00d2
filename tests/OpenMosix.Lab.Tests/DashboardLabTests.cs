using Microsoft.Playwright;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #18's acceptance for the dashboard: chromium inside node 1 of a 3-node lab (its network namespace, so it
/// reaches that node's omd at the default 127.0.0.1:5726) renders every node, and root's drag of a process onto
/// node 2 moves it there for real.
/// </summary>
public sealed class DashboardLabTests
{
    [Fact]
    public async Task Chromium_in_node_1_renders_all_three_nodes_and_dragging_a_process_onto_node_2_moves_it()
    {
        Assert.SkipUnless(ChromiumSettings.Installed, $"{ChromiumSettings.Executable} is not installed (apt-get install chromium)");
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "6000", "50");
        run.WaitForLines(2); // running its own program, its start-up descriptors closed
        var url = lab.Exec(1, Om.Path, "dashboard").Succeeded().Stdout.Trim();
        using var scratch = new TempDirectory();
        // Playwright talks to chromium over pipes, which nsenter keeps: only its network is node 1's.
        var inNode1 = scratch.File("chromium-in-node-1");
        File.WriteAllText(inNode1, $"#!/bin/sh\nexec nsenter --net={lab.Layout.NetnsFile(1)} {ChromiumSettings.Executable} \"$@\"\n");
        File.SetUnixFileMode(inNode1, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assertions.SetDefaultExpectTimeout(30_000);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = inNode1, Headless = true, Args = ChromiumSettings.Arguments,
        });
        var page = await browser.NewPageAsync();

        await page.GotoAsync(url);

        await Expect(page.Locator("#nodes [data-node-id]")).ToHaveCountAsync(3);
        foreach (var node in new[] { 1, 2, 3 })
            await Expect(page.Locator($"[data-node-id=\"{node}\"]")).ToHaveAttributeAsync("data-state", "alive");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-mode", "root");

        await page.Locator($"#procs tr[data-pid=\"{run.Pid}\"]").DragToAsync(page.Locator("[data-node-id=\"2\"]"));

        await Expect(page.Locator("#move-result")).ToContainTextAsync($"process {run.Pid} moved from node 1 to node 2");
        Assert.Equal("2", lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
    }
}
