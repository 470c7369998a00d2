using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Real programs that run process trees, started with om run on node 1 of four: make -j, xargs -P and python3's
/// multiprocessing give the same results as without openMosix, whatever of their tree moved.
/// </summary>
[Collection(ForkLab.Collection)]
public sealed class ProcessTreeLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    /// <summary>Runs <paramref name="run"/> to its end, noting whether any managed process of node 1 whose command
    /// contains <paramref name="command"/> was seen running on another node meanwhile.</summary>
    private bool SeenAway(ManagedRun run, string command)
    {
        var seen = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!run.Process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            seen |= Lab.Processes(1).Processes.Any(p => p.State == "remote" && p.Command.Contains(command, StringComparison.Ordinal));
            Thread.Sleep(100);
        }
        return seen;
    }

    [Fact]
    public void Make_j4_spreads_its_compilers_and_builds_the_same_objects_as_a_plain_make()
    {
        using var work = new TempDirectory("om-make");
        var generator = Path.Combine(TestPrograms.RepositoryRoot, "bench", "trees", "gen-sources.sh");
        foreach (var tree in new[] { "plain", "managed" })
            Assert.Equal(0, CommandRun.Run("bash", [generator, work.File(tree), "6", "120"]).ExitCode);
        var plain = CommandRun.Run("make", ["-s", "-j4", "-C", work.File("plain")]);
        Assert.True(plain.ExitCode == 0, plain.ToString());

        using var make = Lab.Managed(1, "make", "-s", "-j4", "-C", work.File("managed"));
        Assert.True(SeenAway(make, "cc1"), "no compiler ran away from node 1");
        Assert.Equal(0, make.Process.WaitForExit(TimeSpan.FromSeconds(30)).Code);
        foreach (var file in Directory.GetFiles(work.File("plain"), "*.o").Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(work.File("plain"), file!)), File.ReadAllBytes(Path.Combine(work.File("managed"), file!)));
        Assert.Equal(CommandRun.Run(work.File("plain/program"), []).Stdout, CommandRun.Run(work.File("managed/program"), []).Stdout);
    }

    [Fact]
    public void Xargs_P_jobs_spread_and_every_one_reports_back()
    {
        // Each job spins until the test has seen the six managed and one away from node 1, and sends each SIGUSR1 at
        // home (forwarded to a copy as any signal); 3 s of CPU each on half-CPU nodes were waited out before.
        // The shell execs xargs, so that the jobs are the managed children of the PID started.
        using var xargs = Lab.Managed(1, "bash", "-c", $"exec xargs -P 6 -n 1 {TestPrograms.Locate("spinner")} <<< 'usr1 usr1 usr1 usr1 usr1 usr1'");
        IReadOnlyList<ProcessRow> Jobs() => [.. Lab.Processes(1).Processes.Where(p => p.ParentPid == xargs.Pid)];
        try
        {
            Poll.Until(() => Jobs() is { Count: 6 } jobs && jobs.Any(p => p.State == "remote"), TimeSpan.FromSeconds(90),
                "the six jobs to be managed and one of them to run away from node 1");
            // "spinner start" is printed once a job's SIGUSR1 handler is set (before, the signal would kill it).
            Poll.Until(() => xargs.Lines().Count(l => l == "spinner start") == 6, TimeSpan.FromSeconds(30), "every job's \"spinner start\"");
            var jobs = Descendants.Named(xargs.Pid, "spinner");
            Assert.Equal(6, jobs.Count);
            foreach (var job in jobs) Signals.Kill(job, Signals.SIGUSR1);
            Assert.Equal(0, xargs.Process.WaitForExit(TimeSpan.FromSeconds(60)).Code);
        }
        finally
        {
            // After a failure, no job may spin on in the lab the next tests share (a deputy's end ends its copy).
            if (!xargs.Process.HasExited) Descendants.Kill(xargs.Pid);
        }
        Assert.Equal(6, xargs.Lines().Count(line => line == "spinner done"));
        Assert.Equal(6, xargs.Lines().Count(line => line == "spinner start"));
    }

    [Fact]
    public void Python_multiprocessing_workers_are_managed_and_the_pool_gives_the_right_answer()
    {
        const string program = """
            import multiprocessing as mp
            def work(n):
                s = 0
                for i in range(n):
                    s = (s * 31 + i) % 1000003
                return s
            if __name__ == '__main__':
                with mp.Pool(3) as pool:
                    print(sum(pool.map(work, [1500000 + k for k in range(9)])))
            """;
        using var python = Lab.Managed(1, "/usr/bin/python3", "-c", program);
        var workers = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!python.Process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            // The workers are forked wherever the main process runs now (it may have been placed away at its start).
            workers = Math.Max(workers, Enumerable.Range(1, 4)
                .Sum(node => Lab.Processes(node).Processes.Count(p => p.ParentPid != 0 && p.Command.Contains("mp.Pool(3)", StringComparison.Ordinal))));
            Thread.Sleep(100);
        }
        Assert.Equal(0, python.Process.WaitForExit(TimeSpan.FromSeconds(30)).Code);
        Assert.True(workers >= 3, $"{workers} workers seen managed");
        Assert.Equal([$"{Enumerable.Range(0, 9).Sum(k => Work(1500000 + k))}"], python.Lines());
    }

    private static long Work(int n)
    {
        long s = 0;
        for (var i = 0; i < n; i++) s = (s * 31 + i) % 1000003;
        return s;
    }
}
