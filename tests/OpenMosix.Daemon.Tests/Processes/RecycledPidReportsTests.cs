using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Events;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>The kernel's own reports, read only after the PID they are about was handed out again (root, as the tests
/// run): what a busy omd reads late.</summary>
public sealed class RecycledPidReportsTests() : RecordingTrackerTests(1)
{
    [Fact]
    public void Reports_read_after_a_managed_parents_pid_went_to_another_process_manage_its_real_child_and_not_that_process()
    {
        using var source = ProcessEventSource.Open();
        var (pid, next) = ShellsPidHandedOn(source);
        using var recycled = next;

        var events = ProcessReports.ReceiveUntil(source, e => e.Count(x => x.Kind == ProcessEventKind.Exec && x.Pid == pid) == 2,
            "the reports of the shell, its job and the PID's next process", Patience);
        var job = events.First(e => e.Kind == ProcessEventKind.Fork && e.ParentPid == pid).Pid;
        try
        {
            using var tracker = Tracker();
            foreach (var e in events) tracker.Handle(e);

            var child = Registry.FindHome(job);
            Assert.NotNull(child);
            Assert.Equal((pid, true, DecayMode.Fast, JobHint.Cpu), (child.ParentPid, child.Locked, child.Decay, child.Hint));
            Assert.Null(Registry.Find(pid));
            Assert.Equal([job], Execed.Select(p => p.Pid).Distinct()); // setsid, then sleep
            Assert.Equal([job], Registry.List().Processes.Select(p => p.Pid));
        }
        finally
        {
            Signals.Kill(job, Signals.SIGKILL);
        }
    }

    /// <summary>om run registers outside the kernel's reports: the exit of the process that had the PID before (any
    /// process of the machine's, managed or not), read after the registration, once took the new process out of the
    /// registry, and `om where` said it was not managed (ThreadMigrationLabTests, under load). Its own exit is still
    /// taken.</summary>
    [Fact]
    public void The_exit_of_a_pids_earlier_process_read_after_om_run_registered_its_next_leaves_that_one_managed_until_its_own_exit()
    {
        using var source = ProcessEventSource.Open();
        var (pid, next) = StrangersPidHandedOn();
        using var recycled = next;
        var managed = Registry.Register(pid, 0);
        using var tracker = Tracker();

        var before = ProcessReports.ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exit && x.Pid == pid),
            "the report of the first process's exit", Patience);
        foreach (var e in before) tracker.Handle(e);
        Assert.Same(managed, Registry.Find(pid));
        Assert.Equal([pid], Registry.List().Processes.Select(p => p.Pid));

        Signals.Kill(pid, Signals.SIGKILL);
        recycled.WaitForExit(Patience);
        var own = ProcessReports.ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Exit && x.Pid == pid),
            "the report of the registered process's exit", Patience);
        foreach (var e in own) tracker.Handle(e);
        Assert.Null(Registry.FindExited(pid));
        Assert.Null(Registry.Find(pid));
    }

    /// <summary>A managed shell starts a job and exits, and its PID is handed to a new process (sleep 38). Other
    /// processes forking meanwhile (a busy machine: 2 of 4 runs at load 56) may take the PID first: then the job is
    /// killed and another shell tried, a bounded number of times.</summary>
    private (int Pid, ChildProcess Recycled) ShellsPidHandedOn(ProcessEventSource source)
    {
        for (var attempt = 1; ; attempt++)
        {
            // The job leaves the shell's process group (setsid): the kernel hands out no PID still naming a group.
            var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
            using var shell = ChildProcess.Start("/bin/sh", ["-c", "read x; setsid /bin/sleep 37 & exit 0"], stdin: stdinRead);
            stdinRead.Dispose();
            var pid = shell.Pid;
            var managed = Registry.Register(pid, 0, DecayMode.Fast, JobHint.Cpu);
            Registry.Update(managed, p => p.Locked = true);
            using (var go = new FileStream(stdinWrite, FileAccess.Write)) go.Write("go\n"u8);
            shell.WaitForExit(Patience);
            PidRecycling.WaitPastTick(managed.StartTime, Patience);
            try
            {
                return (pid, PidRecycling.StartAs(pid, "/bin/sleep", ["38"]));
            }
            catch (InvalidOperationException) when (attempt < 10)
            {
                // Taken by another fork first: this attempt's job goes, and its reports are read past.
                var reports = ProcessReports.ReceiveUntil(source, e => e.Any(x => x.Kind == ProcessEventKind.Fork && x.ParentPid == pid),
                    "the report of the shell's job", Patience);
                Signals.Kill(reports.First(e => e.Kind == ProcessEventKind.Fork && e.ParentPid == pid).Pid, Signals.SIGKILL);
            }
        }
    }

    /// <summary>A process not managed here ends, and its PID is handed to a new one (sleep 39). Other processes forking
    /// meanwhile (a busy machine) may take the PID first: then another stranger is tried, a bounded number of times.</summary>
    private static (int Pid, ChildProcess Recycled) StrangersPidHandedOn()
    {
        for (var attempt = 1; ; attempt++)
        {
            using var stranger = ChildProcess.Start("/bin/sleep", ["1000"]);
            var pid = stranger.Pid;
            var started = ProcessRegistry.StartTimeOf(pid) ?? throw new InvalidOperationException($"no start time for {pid}");
            Signals.Kill(pid, Signals.SIGKILL);
            stranger.WaitForExit(Patience);
            PidRecycling.WaitPastTick(started, Patience);
            try
            {
                return (pid, PidRecycling.StartAs(pid, "/bin/sleep", ["39"]));
            }
            catch (InvalidOperationException) when (attempt < 10)
            {
                // Taken by another fork first: try another PID.
            }
        }
    }
}
