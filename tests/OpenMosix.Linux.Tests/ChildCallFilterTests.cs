using System.Diagnostics;
using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a migration target also hands over the calls about children and parent (wait4, kill,
/// getppid, ...) whatever their arguments, so that omd can have them carried out at home; built without them, the
/// filter lets them run.
/// </summary>
public sealed class ChildCallFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        install_filter()
        sys.stdin.readline()
        print("parent", os.getppid(), flush=True)
        try:
            os.kill(123456, 0)
            print("kill 0", flush=True)
        except OSError as e:
            print("kill", e.errno, flush=True)
        print("pid", os.getpid(), flush=True)
        """;

    [Fact]
    public void Getppid_and_kill_reach_the_supervisor_and_return_what_it_answers()
    {
        using var child = Start(ForwardingFilter.Build([], reservedFrom: 100, childCalls: true), out var listener);
        using var stop = Ending(child);
        using (listener)
        {
            var parent = Next(listener);
            Assert.Equal(SyscallNr.Getppid, parent.Nr);
            Assert.True(SeccompListener.Answer(listener, parent.Id, 4242));
            Assert.Equal("parent 4242", ReadLine(child));
            var kill = Next(listener);
            Assert.Equal((SyscallNr.Kill, 123456UL, 0UL), (kill.Nr, kill.Args[0], kill.Args[1]));
            Assert.True(SeccompListener.Answer(listener, kill.Id, 0));
            Assert.Equal("kill 0", ReadLine(child));
            // getpid is none of them: the kernel answers.
            Assert.Equal($"pid {child.Id}", ReadLine(child));
        }
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void Without_child_calls_the_filter_lets_getppid_and_kill_run()
    {
        using var child = Start(ForwardingFilter.Build([7], reservedFrom: 100), out var listener);
        using var stop = Ending(child);
        using (listener)
        {
            Assert.Equal($"parent {Environment.ProcessId}", ReadLine(child));
            Assert.Equal($"kill {(int)Errno.ESRCH}", ReadLine(child));
        }
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
    }

    private const string SelfSignals = FilteredPython.Preamble + """
        own = int(sys.argv[2])
        install_filter()
        sys.stdin.readline()
        info = ctypes.create_string_buffer(128)
        ctypes.c_int.from_buffer(info, 8).value = -1
        print("self", os.kill(own, 0), libc.syscall(234, own, own, 0), libc.syscall(129, own, 0, info), flush=True)
        os.kill(123456, 0)
        print("other", flush=True)
        """;

    [Fact]
    public void A_signal_to_the_process_itself_runs_without_the_supervisor_and_one_to_another_reaches_it()
    {
        // The filter's "own PID" is this test process's, which the child signals (signal 0: only checked).
        var own = Environment.ProcessId;
        using var child = Start(ForwardingFilter.Build([], reservedFrom: 100, childCalls: true, ownPid: own), out var listener, SelfSignals, $"{own}");
        using var stop = Ending(child);
        using (listener)
        {
            Assert.Equal("self None 0 0", ReadLine(child));
            var kill = Next(listener);
            Assert.Equal((SyscallNr.Kill, 123456UL), (kill.Nr, kill.Args[0]));
            Assert.True(SeccompListener.Answer(listener, kill.Id, 0));
            Assert.Equal("other", ReadLine(child));
        }
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
    }

    private const string SelfStops = FilteredPython.Preamble + """
        own = int(sys.argv[2])
        install_filter()
        sys.stdin.readline()
        info = ctypes.create_string_buffer(128)
        ctypes.c_int.from_buffer(info, 8).value = -1
        # tgkill's signal is its third argument: a thread numbered 20 with signal 0 is no stop, the kernel runs it.
        print("self", os.kill(own, 0), libc.syscall(234, own, 20, 0) == -1, flush=True)
        print("kill", os.kill(own, 20), flush=True)
        print("tgkill", libc.syscall(234, own, own, 21), flush=True)
        print("sigqueue", libc.syscall(129, own, 22, info), flush=True)
        """;

    [Fact]
    public void A_terminal_stop_the_process_sends_itself_reaches_the_supervisor_whichever_call_sends_it()
    {
        // Its group is orphaned on the node, where the kernel would drop such a stop: omd has it made at home.
        var own = Environment.ProcessId;
        using var child = Start(ForwardingFilter.Build([], reservedFrom: 100, childCalls: true, ownPid: own), out var listener, SelfStops, $"{own}");
        using var stop = Ending(child);
        using (listener)
        {
            Assert.Equal("self None True", ReadLine(child));
            foreach (var (nr, signal, line) in new[] { (SyscallNr.Kill, 20UL, "kill None"), (SyscallNr.Tgkill, 21UL, "tgkill 0"), (SyscallNr.RtSigqueueinfo, 22UL, "sigqueue 0") })
            {
                var call = Next(listener);
                Assert.Equal((nr, (ulong)own, signal), (call.Nr, call.Args[0], nr == SyscallNr.Tgkill ? call.Args[2] : call.Args[1]));
                Assert.True(SeccompListener.Answer(listener, call.Id, 0));
                Assert.Equal(line, ReadLine(child));
            }
        }
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void The_signals_to_itself_lengthen_no_jump_of_a_filter_with_every_kind_of_call()
    {
        // Each jump spans at most 255 instructions: each section of the filter ends in its own verdicts, so the signals
        // to itself lengthen no jump over the descriptors' list, and MaxForwarded fits with every kind of call (175 did
        // when the sections shared one pair of verdicts at the end; ForwardingFilterLayoutTests checks its verdicts).
        var program = ForwardingFilter.Build([.. Enumerable.Range(3, ForwardingFilter.MaxForwarded)], reservedFrom: 1000, childCalls: true, ownPid: 4242,
            pathCalls: true, terminalGroups: true, terminalReads: [0, 1, 2], socketCalls: true, terminalWrites: true);
        Assert.True(ForwardingFilter.IsForwardingFilter(program));
    }

    /// <summary>Kills the child if the test ends before it did.</summary>
    private static Disposer Ending(Process child) => new(() =>
    {
        if (!child.HasExited) child.Kill();
    });

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private static Process Start(byte[] program, out Microsoft.Win32.SafeHandles.SafeFileHandle listener, string script = Child, string argument = "")
    {
        var child = Process.Start(new ProcessStartInfo("python3", ["-c", script, Convert.ToHexString(program), argument])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var number = int.Parse(ReadLine(child), System.Globalization.CultureInfo.InvariantCulture);
        using var pidfd = PidFd.Open(child.Id);
        listener = pidfd.GetFd(number);
        child.StandardInput.WriteLine("go");
        child.StandardInput.Flush();
        return child;
    }
}
