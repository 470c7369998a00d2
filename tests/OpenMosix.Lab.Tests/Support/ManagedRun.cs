using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>What the migration lab tests do in a node: move a process, list processes, start one with om run.</summary>
internal static class MigrationLabCommands
{
    public static void Migrate(this TestLab lab, int node, int pid, string target) =>
        lab.Exec(node, Om.Path, "migrate", $"{pid}", target).Succeeded();

    public static ProcessList Processes(this TestLab lab, int node) =>
        JsonSerializer.Deserialize(lab.Exec(node, Om.Path, "ps", "--json").Succeeded().Stdout, AdminJsonContext.Default.ProcessList)!;

    /// <summary>`om lab exec NODE -- om run PROGRAM ARGS` as a child of the test, stdout into a file the test reads.</summary>
    public static ManagedRun Managed(this TestLab lab, int node, string program, params string[] arguments) => lab.Managed(node, [program, .. arguments], null);

    public static ManagedRun Managed(this TestLab lab, int node, string[] command, Microsoft.Win32.SafeHandles.SafeFileHandle? stdin) =>
        lab.InNode(node, [Om.Path, "run", .. command], stdin);

    /// <summary>`om lab exec NODE -- COMMAND` (not managed unless COMMAND says so) as a child of the test, stdout into a
    /// file the test reads.</summary>
    public static ManagedRun InNode(this TestLab lab, int node, string[] command, Microsoft.Win32.SafeHandles.SafeFileHandle? stdin = null)
    {
        var output = Path.Combine(lab.Layout.NodeDirectory(node), $"run-{Guid.NewGuid():N}.out");
        // A pipe, not the file itself: a file would be reopened by path on the other node, a pipe must be relayed.
        var (read, write) = Descriptors.CreatePipe();
        var process = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, $"{node}", "--", .. command], stdin: stdin, stdout: write);
        write.Dispose();
        return new ManagedRun(process, read, output);
    }
}

/// <summary>A process started with om run in a node; its stdout (a relayed pipe) is read into lines as it comes.</summary>
internal sealed class ManagedRun : IDisposable
{
    private readonly List<string> _lines = [];
    private readonly Thread _reader;

    public ManagedRun(ChildProcess process, Microsoft.Win32.SafeHandles.SafeFileHandle stdout, string copy)
    {
        Process = process;
        _reader = new Thread(() =>
        {
            using var reader = new StreamReader(new FileStream(stdout, FileAccess.Read));
            while (reader.ReadLine() is { } line)
            {
                lock (_lines) _lines.Add(line);
                File.AppendAllText(copy, line + "\n");
            }
        }) { IsBackground = true };
        _reader.Start();
    }

    public ChildProcess Process { get; }
    public int Pid => Process.Pid;

    public IReadOnlyList<string> Lines()
    {
        if (Process.HasExited) _reader.Join(TimeSpan.FromSeconds(10));
        lock (_lines) return [.. _lines];
    }

    public void WaitForLines(int count, TimeSpan? timeout = null) =>
        Poll.Until(() => Lines().Count >= count, timeout ?? TimeSpan.FromSeconds(20), $"{count} lines from process {Pid}");

    public void Dispose() => Process.Dispose();
}
