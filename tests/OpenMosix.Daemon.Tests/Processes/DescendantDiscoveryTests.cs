using System.Text;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Events;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>Descendants of managed processes found in /proc (after lost events) and from the kernel's own events.</summary>
public sealed class DescendantDiscoveryTests() : RecordingTrackerTests(2)
{
    private static string? ExecutableOf(int pid) => ProcessRegistry.ExecutableOf(pid);

    /// <summary>Runs <paramref name="test"/> on a shell with a sleeping child and a child shell whose own child
    /// sleeps (three descendants, each with its parent), then kills them all (the whole group).</summary>
    private static void WithShellTree(Action<ChildProcess, List<(int Pid, int Parent)>> test)
    {
        using var shell = ChildProcess.Start("/bin/sh", ["-c", "/bin/sleep 60 & /bin/sh -c '/bin/sleep 61 & wait' & wait"]);
        try
        {
            List<(int Pid, int Parent)> found = [];
            Poll.Until(() =>
            {
                found = ProcessTable.Descendants(ProcessTable.ReadParents(), new HashSet<int> { shell.Pid });
                var parents = found.Select(f => f.Parent).ToHashSet();
                return found.Count == 3 && found.Where(f => !parents.Contains(f.Pid)).All(f => ExecutableOf(f.Pid)?.EndsWith("/sleep", StringComparison.Ordinal) == true);
            }, Patience, "a shell with a child, a child shell and a grandchild, all sleeping");
            test(shell, found);
        }
        finally
        {
            Signals.Kill(-shell.Pid, Signals.SIGKILL);
        }
    }

    [Fact]
    public void A_rescan_registers_children_and_grandchildren_of_a_managed_process_parents_first()
    {
        WithShellTree((shell, descendants) =>
        {
            var root = Registry.Register(shell.Pid, 0);
            Registry.Update(root, p => p.Locked = true);
            using var tracker = Tracker();
            var before = MonotonicClock.Now();

            Assert.Equal(3, tracker.Rescan());

            foreach (var (pid, parent) in descendants)
            {
                var found = Registry.FindHome(pid);
                Assert.NotNull(found);
                Assert.Equal((parent, true, ExecutableOf(pid)), (found.ParentPid, found.Locked, found.Program));
                Assert.InRange(found.ExecutedAt!.Value, before, MonotonicClock.Now());
            }
            Assert.Equal(descendants.Select(d => d.Pid).Order(), Execed.Select(p => p.Pid).Order());
            Assert.Equal(0, tracker.Rescan());
        });
    }

    [Fact]
    public void Lost_events_make_the_tracker_look_at_proc()
    {
        WithShellTree((shell, descendants) =>
        {
            Registry.Register(shell.Pid, 0);
            using var tracker = Tracker();
            tracker.Handle(new ProcessEvent(ProcessEventKind.Lost, 0, 0, TimeSpan.Zero));
            Assert.All(descendants, d => Assert.Equal(d.Parent, Registry.FindHome(d.Pid)?.ParentPid));
        });
    }

    [Fact]
    public void A_rescan_without_managed_processes_registers_nothing()
    {
        using var sleep = ChildProcess.Start("/bin/sleep", ["62"]);
        using var tracker = Tracker();
        Assert.Equal(0, tracker.Rescan());
        Assert.Empty(Registry.HomePids());
    }

    [Fact]
    public void With_the_kernels_events_a_child_of_a_managed_shell_is_managed_from_birth_and_its_end_is_measured()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (write)
        {
            // The shell forks only once it reads a line: by then it is managed and the tracker listens.
            using var shell = ChildProcess.Start("/bin/sh", ["-c", "read line; /bin/sleep 63; exit 0"], stdin: read);
            read.Dispose();
            Registry.Register(shell.Pid, 0);
            using var tracker = Tracker();
            tracker.Start();
            Assert.True(tracker.Connected);

            Descriptors.WriteAll(write, Encoding.ASCII.GetBytes("go\n"));
            var child = 0;
            Poll.Until(() => ProcFs.ReadChildren(shell.Pid) is [var only] && (child = only) > 0
                && Registry.FindHome(only)?.Program?.EndsWith("/sleep", StringComparison.Ordinal) == true, Patience, "the shell's child to be managed and exec sleep");

            var managed = Registry.FindHome(child)!;
            Assert.Equal((shell.Pid, ProcessState.Home, "/bin/sleep 63"), (managed.ParentPid, managed.State, Registry.Row(managed).Command));
            Poll.Until(() => Execed.Any(p => p.Pid == child), Patience, "the exec to be passed on");
            Signals.Kill(child, Signals.SIGKILL);
            // The exit event is what passes the lifetime on; a lookup may forget the entry before it (the PID no
            // longer names the process it did), so the event is what is waited for.
            Poll.Until(() => Ended.Count > 0, Patience, "the child's exit to be seen");
            Poll.Until(() => Registry.FindHome(child) is null, Patience, "the child to leave the registry");
            // The shell, managed too, ends right after its child: its end may be measured as well, but only after.
            var (program, lifetime) = Ended.First();
            Assert.Equal(managed.Program, program);
            Assert.DoesNotContain(Ended.Skip(1), e => e.Program == managed.Program);
            Assert.True(lifetime > TimeSpan.Zero && lifetime < Patience * 2, $"lifetime {lifetime}");
            Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
        }
    }
}
