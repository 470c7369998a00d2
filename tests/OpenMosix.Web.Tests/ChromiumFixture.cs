using Microsoft.Playwright;
using OpenMosix.TestSupport;

namespace OpenMosix.Web.Tests;

/// <summary>One headless chromium per test class, started as <see cref="ChromiumSettings"/> says; each test gets a fresh
/// context (its own sessionStorage).</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string Executable = ChromiumSettings.Executable;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("chromium is not started");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Executable)) return;
        Assertions.SetDefaultExpectTimeout(10_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ChromiumSettings.Arguments,
        });
    }

    /// <summary>A page of its own context; skips the test when chromium is not installed.</summary>
    public async Task<IPage> NewPageAsync()
    {
        Assert.SkipUnless(_browser is not null, $"{Executable} is not installed (apt-get install chromium)");
        var context = await Browser.NewContextAsync();
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
