using System.Text.Json;
using OpenMosix.Lab.State;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>A lab with a name no other test uses, removed again when the test ends (whatever happened).</summary>
internal sealed class TestLab : IDisposable
{
    public TestLab(int nodes, params string[] extraUpArguments)
        : this(nodes, withDaemons: false, extraUpArguments)
    {
    }

    private TestLab(int nodes, bool withDaemons, string[] extraUpArguments)
    {
        Name = UniqueName();
        string[] daemons = withDaemons ? [] : ["--no-daemon"];
        var up = Om.Run(["lab", "up", "--name", Name, "--nodes", $"{nodes}", .. daemons, .. extraUpArguments]);
        if (up.ExitCode != 0) Down();
        up.Succeeded();
        Status = ReadStatus();
    }

    /// <summary>A lab with omd (and with --discovery also omdiscd) running in every node.</summary>
    public static TestLab WithDaemons(int nodes, params string[] extraUpArguments) => new(nodes, withDaemons: true, extraUpArguments);

    public string Name { get; }
    public LabStatus Status { get; private set; }
    public LabLayout Layout => new(LabName.Parse(Name));
    public string Address(int node) => Status.Nodes.Single(n => n.Id == node).Address;

    public LabStatus ReadStatus()
    {
        var json = Om.Run("lab", "status", "--json", "--name", Name).Succeeded().Stdout;
        return Status = JsonSerializer.Deserialize(json, LabJsonContext.Default.LabStatus)!;
    }

    public OmResult Exec(int node, params string[] command) => Om.Exec(Name, node, command);

    /// <summary>
    /// Waits until a node's omd has logged <paramref name="text"/>. omd's console logger writes from a queue of its
    /// own, so a line can reach the file a moment after what it reports is already visible to a test.
    /// </summary>
    public void WaitForDaemonLog(int node, string text, TimeSpan? timeout = null)
    {
        var path = Layout.NodeDaemonLog(node);
        Poll.Until(() => File.Exists(path) && ReadShared(path).Contains(text, StringComparison.Ordinal),
            timeout ?? TimeSpan.FromSeconds(10), $"node {node}'s omd to log \"{text}\"");
    }

    private static string ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    public OmResult Down() => Om.Run("lab", "down", "--name", Name);

    public void Dispose() => Down();

    /// <summary>"t" and 7 random characters: unique among concurrent test runs, and short enough for interface names.</summary>
    public static string UniqueName() => "t" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..7];
}
