using System.Text;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// For lab tests that failed once without saying why (a process SIGKILLed by nobody the test knows of): a failure
/// inside <see cref="ExplainingFailure(TestLab, Action)"/> keeps every node's omd log, which `om lab down` would remove
/// with the lab, and carries their last lines and what the kernel logged of killed processes, so that the next failure
/// explains itself.
/// </summary>
internal static class FailureReport
{
    /// <summary>Where the logs of failed tests' labs are kept (one directory per lab).</summary>
    public static string KeptLogs => Path.Combine(Path.GetTempPath(), "openmosix-lab-failures");

    private const int TailLines = 40;

    /// <param name="watched">Processes whose state the report describes too (a wait that timed out: which stage of
    /// its start a process was in, whether it was running, blocked in the kernel or stopped under a tracer).</param>
    public static void ExplainingFailure(this TestLab lab, Action test, IEnumerable<int>? watched = null)
    {
        try
        {
            test();
        }
        catch (Exception failure)
        {
            throw new LabTestFailure(Explain(lab, failure, watched ?? []), failure);
        }
    }

    public static async Task ExplainingFailureAsync(this TestLab lab, Func<Task> test)
    {
        try
        {
            await test().ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            throw new LabTestFailure(Explain(lab, failure, []), failure);
        }
    }

    /// <summary>The failure's message, then for each node the end of its omd log (the whole log kept), then the
    /// kernel's lines about killed processes, each node's memory cgroup and the watched processes. Nothing here may
    /// hide the failure itself: each part that cannot be read says so in one line.</summary>
    private static string Explain(TestLab lab, Exception failure, IEnumerable<int> watched)
    {
        var text = new StringBuilder(failure.Message).Append('\n');
        var kept = Path.Combine(KeptLogs, lab.Name);
        for (var node = 1; File.Exists(lab.Layout.NodeConfigFile(node)); node++)
        {
            var log = lab.Layout.NodeDaemonLog(node);
            try
            {
                Directory.CreateDirectory(kept);
                File.Copy(log, Path.Combine(kept, $"n{node}-omd.log"), overwrite: true);
                var lines = File.ReadAllLines(log);
                text.Append($"--- node {node}'s omd log, last {Math.Min(TailLines, lines.Length)} of {lines.Length} lines (kept in {kept}) ---\n");
                foreach (var line in lines.TakeLast(TailLines)) text.Append(line).Append('\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                text.Append($"--- node {node}'s omd log could not be read: {e.Message} ---\n");
            }
        }
        text.Append("--- kernel log: killed processes ---\n").Append(KilledByTheKernel());
        text.Append("--- memory cgroups ---\n");
        for (var node = 1; File.Exists(lab.Layout.NodeConfigFile(node)); node++)
            text.Append($"node {node}: ").Append(FailureState.MemoryCgroup(lab.Layout.MemoryCgroup(node))).Append('\n');
        foreach (var pid in watched) text.Append(FailureState.Process(pid));
        return text.ToString();
    }

    /// <summary>The last lines of dmesg naming a killed process or the OOM killer (whose cgroup it acted in).</summary>
    private static string KilledByTheKernel()
    {
        try
        {
            var dmesg = CommandRun.Run("dmesg", ["--ctime"], timeout: TimeSpan.FromSeconds(10));
            if (dmesg.ExitCode != 0) return $"dmesg failed: {dmesg.Stderr.Trim()}\n";
            var lines = dmesg.Stdout.Split('\n').Where(l => l.Contains("Killed process", StringComparison.Ordinal)
                || l.Contains("oom-kill", StringComparison.Ordinal) || l.Contains("out of memory", StringComparison.OrdinalIgnoreCase)).TakeLast(12).ToList();
            return lines.Count == 0 ? "none\n" : string.Join('\n', lines) + "\n";
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"dmesg could not run: {e.Message}\n";
        }
    }
}

/// <summary>A lab test's failure with what the lab's nodes logged; the original failure is the inner exception.</summary>
internal sealed class LabTestFailure(string message, Exception inner) : Exception(message, inner);
