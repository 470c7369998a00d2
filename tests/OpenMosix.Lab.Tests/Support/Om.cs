using System.Diagnostics;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>The finished run of one om command.</summary>
internal sealed record OmResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"`{CommandLine}` exited {ExitCode}; stdout: {Stdout.TrimEnd()}; stderr: {Stderr.TrimEnd()}";

    public OmResult Succeeded()
    {
        Assert.True(ExitCode == 0, ToString());
        return this;
    }
}

/// <summary>Runs the real om binary (OM_BIN, else artifacts/bin/om) the way a user does.</summary>
internal static class Om
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Path => OmBinary.Path;

    public static OmResult Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"om {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
        }
        return new OmResult("om " + string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command inside a node of a lab through `om lab exec`.</summary>
    public static OmResult Exec(string lab, int node, params string[] command) =>
        Run(["lab", "exec", "--name", lab, $"{node}", "--", .. command]);
}
