using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// The end-to-end check every scenario goes through: an uninterrupted reference run; then a second run that is
/// checkpointed at a random moment with `om checkpoint PID -o IMAGE --kill`, reaped, and brought back with
/// `om restore IMAGE`. The output before the checkpoint plus the output after the restore, the exit status and the
/// files written must all equal the reference.
/// </summary>
internal static class CheckpointFlow
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(30);

    public static async Task<ProgramOutcome> RunAsync(Scenario scenario)
    {
        var reference = await ReferenceCache.GetAsync(scenario.Key, () => RunUninterruptedAsync(scenario));
        var random = TestSeed.Create();
        using var dir = new TempDirectory("om-e2e-" + Label(scenario));
        scenario.Prepare?.Invoke(dir.Path);
        if (scenario.AsTestUser) TestUser.Own(dir.Path);

        var command = OmCli.AsUser(scenario.Command(dir.Path), scenario.AsTestUser);
        TestLog.Line("$ " + command);
        using var original = RunningProcess.Start(command);
        if (scenario.AfterStart is { } feed) await feed(original);
        await Wait.UntilAsync(() => scenario.Ready(original) || original.HasExited, ReadyTimeout, scenario.ReadyDescription);
        var delay = random.Next(0, (int)scenario.MaxExtraDelay.TotalMilliseconds + 1);
        TestLog.Line($"ready ({scenario.ReadyDescription}); checkpointing {delay} ms later");
        await Task.Delay(delay, TestContext.Current.CancellationToken);
        Assert.False(original.HasExited, $"{command} finished before it could be checkpointed; its scenario's delays are too long");

        var image = dir.File("process.omimg");
        var checkpoint = await OmCli.CheckpointAsync(original.Pid, image, kill: true, scenario.AsTestUser);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        var originalStatus = await original.WaitForExitAsync(ReapTimeout);
        Assert.True(originalStatus == 128 + 9, $"the original should be killed (SIGKILL) by --kill, but its status is {originalStatus}");
        var before = original.StdoutBytes;
        TestLog.Line($"original printed {before.Length} bytes before the checkpoint");

        using var restored = OmCli.StartRestore(image, dir.Path, asTestUser: scenario.AsTestUser);
        if (scenario.AfterRestore is { } resume) await resume(restored);
        else restored.CloseStdin();
        var status = await restored.WaitForExitWhileItRunsAsync(scenario.RunTimeout);
        if (restored.StderrText.Length > 0) TestLog.Line("om restore stderr: " + restored.StderrText.TrimEnd());
        scenario.CheckRestoreStderr?.Invoke(restored.StderrText);

        var outcome = new ProgramOutcome([.. before, .. restored.StdoutBytes], status, Collect(scenario, dir.Path));
        outcome.ShouldMatch(reference);
        return outcome;
    }

    /// <summary>One run of the scenario with no checkpoint: what every checkpointed run is compared against.</summary>
    public static async Task<ProgramOutcome> RunUninterruptedAsync(Scenario scenario)
    {
        using var dir = new TempDirectory("om-e2e-" + Label(scenario) + "-ref");
        scenario.Prepare?.Invoke(dir.Path);
        using var process = RunningProcess.Start(scenario.Command(dir.Path));
        if (scenario.AfterStart is { } feed) await feed(process);
        if (scenario.AfterRestore is { } resume) await resume(process);
        else process.CloseStdin();
        var status = await process.WaitForExitWhileItRunsAsync(scenario.RunTimeout);
        return new ProgramOutcome(process.StdoutBytes, status, Collect(scenario, dir.Path));
    }

    private static IReadOnlyDictionary<string, byte[]> Collect(Scenario scenario, string dir) =>
        scenario.CollectFiles?.Invoke(dir) ?? new Dictionary<string, byte[]>();

    private static string Label(Scenario scenario) => new([.. scenario.Key.TakeWhile(char.IsAsciiLetterOrDigit)]);

    /// <summary>Reads the named files of a run directory, for <see cref="Scenario.CollectFiles"/>.</summary>
    public static IReadOnlyDictionary<string, byte[]> ReadFiles(string dir, params string[] names) =>
        names.ToDictionary(name => name, name => File.ReadAllBytes(Path.Combine(dir, name)));
}
