using OpenMosix.Linux.Events;
using OpenMosix.Linux.Interop;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>The kernel's process connector itself (root, as the tests run). Other tests start processes meanwhile, so
/// every test looks only at the processes it made.</summary>
public sealed class ProcessEventSourceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static List<ProcessEvent> ReceiveUntil(ProcessEventSource source, Func<List<ProcessEvent>, bool> done, string what) =>
        ProcessReports.ReceiveUntil(source, done, what, Patience);

    [Fact]
    public void A_shell_that_runs_a_program_is_seen_forked_execed_forking_and_exiting_with_its_status()
    {
        using var source = ProcessEventSource.Open();
        var before = MonotonicClock.Now();
        using var shell = ChildProcess.Start("/bin/sh", ["-c", "/bin/true; exit 3"]);
        var events = ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exit && x.Pid == shell.Pid), "exit of the shell");
        var after = MonotonicClock.Now();

        var forkOfShell = Assert.Single(events, e => e.Kind == ProcessEventKind.Fork && e.Pid == shell.Pid);
        Assert.Equal(Environment.ProcessId, forkOfShell.ParentPid);
        var forkOfTrue = Assert.Single(events, e => e.Kind == ProcessEventKind.Fork && e.ParentPid == shell.Pid);
        var mine = events.Where(e => e.Pid == shell.Pid || e.Pid == forkOfTrue.Pid).ToList();
        Assert.Equal(
            [(ProcessEventKind.Fork, shell.Pid), (ProcessEventKind.Exec, shell.Pid), (ProcessEventKind.Fork, forkOfTrue.Pid),
                (ProcessEventKind.Exec, forkOfTrue.Pid), (ProcessEventKind.Exit, forkOfTrue.Pid), (ProcessEventKind.Exit, shell.Pid)],
            mine.Select(e => (e.Kind, e.Pid)));
        Assert.Equal(0, mine[4].ExitStatus);
        Assert.True(new WaitStatus(mine[5].ExitStatus) is { Exited: true, ExitCode: 3 }, $"wait status {mine[5].ExitStatus}");
        Assert.Equal(shell.Pid, mine[4].ParentPid);
        Assert.Equal(Environment.ProcessId, mine[5].ParentPid);
        // Stamped with the same clock as MonotonicClock, in the order they happened.
        Assert.All(mine, e => Assert.InRange(e.Timestamp, before, after));
        Assert.Equal(mine.Select(e => e.Timestamp).Order(), mine.Select(e => e.Timestamp));
        Assert.Equal(new ChildExit(3, 0), shell.WaitForExit(Patience));
    }

    [Fact]
    public void Threads_of_a_process_are_not_reported_as_processes()
    {
        using var source = ProcessEventSource.Open();
        using var dir = new TempDirectory();
        using var threaded = ChildProcess.StartToFile(TestPrograms.Locate("threaded"), [], dir.File("out"));
        var events = ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exec && x.Pid == threaded.Pid), "exec of the program");
        Poll.Until(() => ProcFs.ReadTasks(threaded.Pid).Count == 3, Patience, "its two worker threads");
        var tasks = ProcFs.ReadTasks(threaded.Pid);
        // Its workers end before it does: their exits are those of threads that do not lead.
        Assert.Equal(new ChildExit(0, 0), threaded.WaitForExit(Patience));
        events.AddRange(ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exit && x.Pid == threaded.Pid), "exit of the program"));

        Assert.DoesNotContain(events, e => e.Pid != threaded.Pid && tasks.Contains(e.Pid));
        Assert.DoesNotContain(events, e => e.Kind == ProcessEventKind.Fork && e.ParentPid == threaded.Pid);
        Assert.Single(events, e => e.Kind == ProcessEventKind.Exit && e.Pid == threaded.Pid);
    }

    [Fact]
    public void A_source_opened_from_another_network_namespace_still_hears_the_kernel()
    {
        using var holder = StartNetworkNamespaceHolder();
        using var source = InNetworkNamespaceOf(holder.Pid, ProcessEventSource.Open);
        using var child = ChildProcess.Start("/bin/true", []);
        var events = ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exit && x.Pid == child.Pid), "exit of /bin/true");
        Assert.Contains(events, e => e.Kind == ProcessEventKind.Fork && e.Pid == child.Pid);
    }

    [Fact]
    public void Work_run_in_the_initial_network_namespace_leaves_its_caller_where_it_was()
    {
        using var holder = StartNetworkNamespaceHolder();
        var (before, inside, after) = InNetworkNamespaceOf(holder.Pid, () =>
            (InitialNetworkNamespace.IsCurrent(), InitialNetworkNamespace.Run(InitialNetworkNamespace.IsCurrent), InitialNetworkNamespace.IsCurrent()));
        Assert.Equal((false, true, false), (before, inside, after));
    }

    [Fact]
    public void A_failure_of_work_in_the_initial_network_namespace_reaches_the_caller()
    {
        using var holder = StartNetworkNamespaceHolder();
        var thrown = InNetworkNamespaceOf(holder.Pid, () =>
            Assert.Throws<InvalidOperationException>(() => InitialNetworkNamespace.Run<int>(() => throw new InvalidOperationException("inside"))));
        Assert.Equal("inside", thrown.Message);
    }

    /// <summary>A process that holds a network namespace of its own (`unshare -n`) while the test needs it.</summary>
    private static ChildProcess StartNetworkNamespaceHolder()
    {
        var holder = ChildProcess.Start("/usr/bin/unshare", ["-n", "/bin/sleep", "60"]);
        Poll.Until(() => Readlink($"/proc/{holder.Pid}/exe")?.EndsWith("/sleep", StringComparison.Ordinal) == true, Patience, "unshare to exec sleep");
        return holder;
    }

    private static string? Readlink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Runs <paramref name="work"/> on a thread of its own moved into the network namespace of process
    /// <paramref name="pid"/> (setns moves only the calling thread).</summary>
    private static T InNetworkNamespaceOf<T>(int pid, Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = Sys.Open($"/proc/{pid}/ns/net", OpenFlags.ReadOnly | OpenFlags.CloseOnExec, 0).OrThrow("open", "netns");
                if (Sys.Setns(target, Sys.CLONE_NEWNET) != 0) throw SyscallException.FromLastError("setns");
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException($"in the network namespace of {pid}: {failure.Message}", failure);
    }
}
