using System.ComponentModel;
using System.Diagnostics;

namespace OpenMosix.Lab.Host;

/// <summary>The finished run of one system tool (ip, mount, unshare).</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The tool's own explanation, first line only, for a one-line error.</summary>
    public string Reason => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .FirstOrDefault() ?? $"exit status {ExitCode}";
}

/// <summary>
/// Runs iproute2 and util-linux tools. These are short-lived helpers, never tracees, so Process is the right tool.
/// A failure becomes one line naming the step, the command and the tool's own reason.
/// </summary>
public static class ToolRun
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static ToolResult Run(string step, string tool, params string[] arguments)
    {
        var result = TryRun(step, tool, arguments);
        if (!result.Succeeded) throw new LabException($"{step}: `{result.CommandLine}` failed: {result.Reason}");
        return result;
    }

    public static ToolResult TryRun(string step, string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var commandLine = tool + " " + string.Join(' ', arguments);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new LabException($"{step}: could not start {tool}");
        }
        catch (Win32Exception e)
        {
            throw new LabException($"{step}: cannot run {tool} ({e.Message}); the lab needs iproute2 and util-linux", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new LabException($"{step}: `{commandLine}` did not finish within {Timeout.TotalSeconds:F0} s");
            }
            return new ToolResult(commandLine, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }
}
