using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// Jobs started with `om run` in one node as children of the test, for tests that look at where they run rather than
/// at what they print (balancing, bring, expel). Disposing ends them all.
/// </summary>
internal sealed class Jobs : IDisposable
{
    private readonly TestLab _lab;
    private readonly int _node;

    private Jobs(TestLab lab, int node, IReadOnlyList<ChildProcess> all) => (_lab, _node, All) = (lab, node, all);

    public IReadOnlyList<ChildProcess> All { get; }

    /// <summary>Starts <paramref name="count"/> of `om run PROGRAM ARGUMENTS` in <paramref name="node"/> (a program of
    /// tests/Programs) and returns once that node's omd lists them all.</summary>
    public static Jobs Start(TestLab lab, int node, int count, string program, params string[] arguments)
    {
        var jobs = new Jobs(lab, node, [.. Enumerable.Range(0, count).Select(_ => ChildProcess.Start(Om.Path,
            ["lab", "exec", "--name", lab.Name, $"{node}", "--", Om.Path, "run", TestPrograms.Locate(program), .. arguments]))]);
        try
        {
            Poll.Until(() => jobs.Where().All(node => node != 0), TimeSpan.FromSeconds(20),
                $"{count} jobs to be registered by node {node}'s omd");
            return jobs;
        }
        catch
        {
            jobs.Dispose();
            throw;
        }
    }

    /// <summary>The node each job runs on, in the order they were started, as their home node's omd says (`om ps`);
    /// 0 for one it does not list.</summary>
    public IReadOnlyList<int> Where()
    {
        var rows = _lab.Processes(_node).Processes;
        return [.. All.Select(job => rows.FirstOrDefault(p => p.Pid == job.Pid)?.Where ?? 0)];
    }

    public void Dispose()
    {
        foreach (var job in All) job.Dispose();
    }
}
