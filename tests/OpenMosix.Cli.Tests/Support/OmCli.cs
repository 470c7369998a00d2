using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>The finished run of one om command.</summary>
internal sealed record OmResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"`{CommandLine}` exited {ExitCode}; stdout: {Stdout.TrimEnd()}; stderr: {Stderr.TrimEnd()}";
}

/// <summary>Drives the real om binary the way a user does: one command line at a time.</summary>
internal static class OmCli
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    public static Task<OmResult> CheckpointAsync(int pid, string image, bool kill, bool asTestUser = false) =>
        RunAsync(kill ? ["checkpoint", $"{pid}", "-o", image, "--kill"] : ["checkpoint", $"{pid}", "-o", image], asTestUser: asTestUser);

    public static Task<OmResult> CantMoveAsync(int pid) => RunAsync(["cantmove", $"{pid}"]);

    public static Task<OmResult> ImageInfoAsync(string image) => RunAsync(["image", "info", image]);

    /// <summary>Starts `om restore IMAGE`: the restored process inherits om's stdin/stdout/stderr pipes.</summary>
    public static RunningProcess StartRestore(string image, string workingDirectory, bool pumpStdout = true, bool asTestUser = false)
    {
        TestLog.Line($"$ om restore {image}{(asTestUser ? " (as the test user)" : "")}");
        return RunningProcess.Start(AsUser(new ProcessSpec(TestPaths.Om, ["restore", image], workingDirectory), asTestUser), pumpStdout);
    }

    public static async Task<OmResult> RunAsync(IReadOnlyList<string> arguments, string? workingDirectory = null, bool asTestUser = false)
    {
        var commandLine = "om " + string.Join(' ', arguments);
        TestLog.Line("$ " + commandLine + (asTestUser ? " (as the test user)" : ""));
        using var om = RunningProcess.Start(AsUser(new ProcessSpec(TestPaths.Om, arguments, workingDirectory ?? Path.GetTempPath()), asTestUser));
        om.CloseStdin();
        var code = await om.WaitForExitAsync(CommandTimeout);
        var result = new OmResult(commandLine, code, om.StdoutText, om.StderrText);
        TestLog.Line($"  -> {code}{(result.Stderr.Length > 0 ? "; stderr: " + result.Stderr.TrimEnd() : "")}");
        return result;
    }

    /// <summary>The command run as <see cref="TestUser"/> when <paramref name="asTestUser"/>, else as it is.</summary>
    public static ProcessSpec AsUser(ProcessSpec spec, bool asTestUser)
    {
        if (!asTestUser) return spec;
        var (program, arguments) = TestUser.Wrap(spec.FileName, spec.Arguments);
        return spec with { FileName = program, Arguments = arguments };
    }
}
