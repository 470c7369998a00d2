using System.Text;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Linux.Tests;

public sealed class SyscallTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Failed_syscall_names_the_call_and_the_errno()
    {
        var e = Assert.Throws<SyscallException>(() => FileStatus.Of("/definitely/not/here"));
        Assert.Equal("stat", e.Syscall);
        Assert.Equal(Errno.ENOENT, e.Error);
        Assert.Contains("stat failed: ENOENT (", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Spawned_child_writes_to_the_descriptor_it_was_given_and_is_reaped()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        {
            int pid;
            using (write)
                pid = ProcessSpawner.Spawn(new SpawnRequest("/bin/sh", ["sh", "-c", "echo out; echo err >&2; exit 3"])
                {
                    Descriptors = new Dictionary<int, int> { [1] = (int)write.DangerousGetHandle(), [2] = (int)write.DangerousGetHandle() },
                });
            using var stream = new FileStream(read, FileAccess.Read);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            Assert.Equal("out\nerr\n", reader.ReadToEnd());
            var status = Waiting.WaitPid(pid, 0);
            Assert.True(status.Exited);
            Assert.Equal(3, status.ExitCode);
        }
    }

    [Fact]
    public void Spawning_a_missing_program_fails_with_enoent()
    {
        var e = Assert.Throws<SyscallException>(() => ProcessSpawner.Spawn(new SpawnRequest("/no/such/program", ["x"])));
        Assert.Equal(Errno.ENOENT, e.Error);
        Assert.Contains("posix_spawn", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seized_child_is_stopped_inspected_and_released_unharmed()
    {
        var pid = ProcessSpawner.Spawn(new SpawnRequest("/bin/sleep", ["sleep", "0.3"]));
        // Seize once it sleeps, so the loader has finished (and glibc has registered rseq and the robust list).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (File.ReadAllText($"/proc/{pid}/syscall").Split(' ')[0] is not ("230" or "35"))
        {
            Assert.True(clock.Elapsed < Patience, "sleep never reached nanosleep");
            Thread.Sleep(1);
        }
        Ptrace.Seize(pid, Ptrace.O_TRACESYSGOOD);
        Ptrace.Interrupt(pid);
        var stop = Waiting.WaitPid(pid);
        while (stop.Stopped && stop.PtraceEvent != Ptrace.EventStop)
        {
            Ptrace.Continue(pid, stop.StopSignal);
            Ptrace.Interrupt(pid);
            stop = Waiting.WaitPid(pid);
        }
        Assert.Equal(Ptrace.EventStop, stop.PtraceEvent);
        var regs = Ptrace.GetRegs(pid);
        Assert.NotEqual(0UL, regs.rip);
        Assert.Equal(regs, UserRegs.FromBytes(regs.ToBytes()));
        Assert.True(Ptrace.GetExtendedState(pid).Length >= 512);
        Assert.Equal(0UL, Ptrace.GetSignalMask(pid));
        Assert.Empty(Ptrace.PeekSignals(pid, shared: false));
        Assert.NotNull(Ptrace.GetRseqConfiguration(pid));
        Assert.NotEqual(0UL, RobustList.Get(pid).Head);
        // The tracer is a thread (ptrace is per thread): TracerPid names one of our tasks.
        Assert.Contains(ProcFs.ReadStatus(pid).TracerPid, ProcFs.ReadTasks(Environment.ProcessId));
        Ptrace.Detach(pid);
        var end = Waiting.WaitPid(pid);
        Assert.True(end.Exited);
        Assert.Equal(0, end.ExitCode);
    }

    [Fact]
    public void Seizing_a_missing_process_is_a_one_line_no_such_process_error()
    {
        var e = Assert.Throws<ProcessAccessException>(() => Ptrace.Seize(int.MaxValue - 1, 0));
        Assert.Contains("no such process", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pidfd_takes_a_childs_descriptor_and_signals_it()
    {
        var (read, write) = Descriptors.CreatePipe();
        int pid;
        using (write)
            pid = ProcessSpawner.Spawn(new SpawnRequest("/bin/sleep", ["sleep", "30"]) { Descriptors = new Dictionary<int, int> { [1] = (int)write.DangerousGetHandle() } });
        using (read)
        using (var pidfd = PidFd.Open(pid))
        {
            using var copy = pidfd.GetFd(1);
            Assert.Equal(FileStatus.Of($"/proc/{pid}/fd/1").Inode, FileStatus.Of($"/proc/self/fd/{copy.DangerousGetHandle()}").Inode);
            pidfd.SendSignal(Signals.SIGTERM);
        }
        var status = Waiting.WaitPid(pid, 0);
        Assert.Equal(Signals.SIGTERM, status.TermSignal);
    }

    [Fact]
    public void Process_memory_reads_back_what_this_process_holds()
    {
        var data = GC.AllocateArray<byte>(8192, pinned: true);
        Random.Shared.NextBytes(data);
        var copy = new byte[data.Length];
        unsafe
        {
            fixed (byte* p = data) ProcessMemory.Read(Environment.ProcessId, (ulong)p, copy);
        }
        Assert.Equal(data, copy);
    }

    [Fact]
    public void Limits_personality_and_uname_report_this_system()
    {
        var nofile = ResourceLimits.Get(Environment.ProcessId, ResourceLimits.RLIMIT_NOFILE);
        Assert.True(nofile.Current > 0 && nofile.Current <= nofile.Maximum);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), SystemInfo.Uname().Release);
        Assert.Equal("x86_64", SystemInfo.Uname().Machine);
        var before = ThreadPersonality.Get();
        var thread = new Thread(() =>
        {
            ThreadPersonality.Set(before | ThreadPersonality.AddrNoRandomize);
            Assert.Equal(before | ThreadPersonality.AddrNoRandomize, ThreadPersonality.Get());
        });
        thread.Start();
        thread.Join();
        Assert.Equal(before, ThreadPersonality.Get());
    }

    [Fact]
    public void Wait_status_decodes_exit_signal_stop_and_ptrace_event()
    {
        Assert.Equal((true, 3), (new WaitStatus(0x0300).Exited, new WaitStatus(0x0300).ExitCode));
        Assert.Equal((true, 9), (new WaitStatus(9).Signaled, new WaitStatus(9).TermSignal));
        var eventStop = new WaitStatus((Ptrace.EventStop << 16) | (Signals.SIGTRAP << 8) | 0x7f);
        Assert.True(eventStop.Stopped);
        Assert.Equal(Ptrace.EventStop, eventStop.PtraceEvent);
        Assert.Equal(Signals.SIGTRAP, eventStop.StopSignal);
    }
}
