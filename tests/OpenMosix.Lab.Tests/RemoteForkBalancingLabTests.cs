using System.Globalization;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Remote fork with the balancer at work (nothing moved by hand but the parent): a python3 multiprocessing parent moved
/// away from home forks CPU-bound workers there, that node's balancer spreads them, and the parent's SIGCHLD, its
/// waits and each worker's exit status or signal, and the workers' getppid, are those of a run where nothing moved.
/// </summary>
[Collection(ForkLab.Collection)]
public sealed class RemoteForkBalancingLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    /// <summary>
    /// Spins until "go" (so that the test moves it first), then forks four workers with multiprocessing's fork context;
    /// each spins until its "release" marker and exits 10 + its number. The parent takes SIGCHLD with sigtimedwait and
    /// prints who it names and how it ended, terminates a worker when asked ("terminate" marker), and prints each
    /// worker's exit code as multiprocessing gives it.
    /// </summary>
    private const string Parent = """
        import multiprocessing as mp, os, signal, sys
        d = sys.argv[1]
        def marker(name): return os.path.join(d, name)
        def work(k, parent):
            x = 0
            while not os.path.exists(marker(f"release{k}")): x += 1
            print(f"worker {k} ppid {'parent' if os.getppid() == parent else os.getppid()}", flush=True)
            sys.exit(10 + k)
        if __name__ == '__main__':
            while not os.path.exists(marker("go")): pass
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
            workers = [mp.get_context("fork").Process(target=work, args=(k, os.getpid())) for k in range(4)]
            for w in workers: w.start()
            index = {w.pid: k for k, w in enumerate(workers)}
            print("pids", *[w.pid for w in workers], flush=True)
            pending, terminated = set(range(4)), set()
            while pending:
                for k in pending - terminated:
                    if os.path.exists(marker(f"terminate{k}")):
                        workers[k].terminate()
                        terminated.add(k)
                info = signal.sigtimedwait([signal.SIGCHLD], 0.1)
                if info is not None:
                    how = {os.CLD_EXITED: "exited", os.CLD_KILLED: "killed"}.get(info.si_code, str(info.si_code))
                    print(f"sigchld {index.get(info.si_pid, info.si_pid)} {how} {info.si_status}", flush=True)
                for k in sorted(pending):
                    if workers[k].exitcode is not None:
                        print(f"exit {k} {workers[k].exitcode}", flush=True)
                        pending.discard(k)
        """;

    [Fact]
    public void Workers_a_moved_parent_forks_are_spread_by_its_nodes_balancer_and_its_sigchld_waits_and_statuses_stay_right()
    {
        using var markers = new TempDirectory("om-rfork-balance");
        using var parent = Lab.Managed(1, "python3", "-c", Parent, markers.Path);
        Poll.Until(() => Row(parent.Pid) is not null, TimeSpan.FromSeconds(20), "the parent to be managed");
        // The balancer may be moving it already: then the move by hand is refused, and it is tried again.
        Poll.Until(() => Row(parent.Pid) is { State: "remote", Where: 2 }
            || (Lab.Exec(1, Om.Path, "migrate", $"{parent.Pid}", "2").ExitCode == 0 && Row(parent.Pid) is { State: "remote", Where: 2 }),
            TimeSpan.FromSeconds(60), "the parent to run on node 2");
        File.WriteAllText(markers.File("go"), "");
        Poll.Until(() => parent.Lines().Any(l => l.StartsWith("pids ", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the parent to fork its workers");
        var pids = parent.Lines().First(l => l.StartsWith("pids ", StringComparison.Ordinal)).Split(' ').Skip(1)
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        // A parent with children on its node stays there (it refuses to move on): its workers were born where it runs.
        var born = Row(parent.Pid)!.Where;

        // Forked, not exec'd: nothing places them at birth; only the balancer of their birth node moves them.
        IReadOnlyList<ProcessRow> Away() => [.. Lab.Processes(1).Processes.Where(p => p.Origin == "forked-away" && pids.Contains(p.Pid) && p.Where != born)];
        Poll.Until(() => Away().Count >= 2, TimeSpan.FromSeconds(120), $"node {born}'s balancer to move two of the workers away");
        var moved = Away().Select(p => Array.IndexOf(pids, p.Pid)).Take(2).ToArray();
        Assert.All(Away(), row => Assert.Equal(parent.Pid, row.ParentPid));

        // A worker away ends by itself: its parent gets the SIGCHLD naming it with its status, and reaps it.
        File.WriteAllText(markers.File($"release{moved[0]}"), "");
        Shows(parent, [$"worker {moved[0]} ppid parent", $"sigchld {moved[0]} exited {10 + moved[0]}", $"exit {moved[0]} {10 + moved[0]}"]);
        // The parent kills another away (kill(child), by PID): it ends by that signal, as it would here.
        File.WriteAllText(markers.File($"terminate{moved[1]}"), "");
        Shows(parent, [$"sigchld {moved[1]} killed 15", $"exit {moved[1]} -15"]);

        // The rest one at a time: SIGCHLD is not queued, so one for two children ending together would name one.
        foreach (var k in Enumerable.Range(0, 4).Except(moved))
        {
            File.WriteAllText(markers.File($"release{k}"), "");
            Shows(parent, [$"worker {k} ppid parent", $"sigchld {k} exited {10 + k}", $"exit {k} {10 + k}"]);
        }
        Assert.Equal(0, parent.Process.WaitForExit(TimeSpan.FromSeconds(60)).Code);
        Poll.Until(() => !Enumerable.Range(1, 4).Any(n => Lab.Processes(n).Processes.Any(p => pids.Contains(p.Pid) || p.Pid == parent.Pid || p.RemotePid == parent.Pid)),
            TimeSpan.FromSeconds(30), "no deputy, guest or listing of the parent or its workers left");
    }

    private ProcessRow? Row(int pid) => Lab.Processes(1).Processes.FirstOrDefault(p => p.Pid == pid);

    private static void Shows(ManagedRun run, string[] lines)
    {
        try
        {
            Poll.Until(() => lines.All(run.Lines().Contains), TimeSpan.FromSeconds(60), $"the parent to print {string.Join(", ", lines)}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; it printed: {string.Join(" | ", run.Lines())}", e);
        }
    }
}
