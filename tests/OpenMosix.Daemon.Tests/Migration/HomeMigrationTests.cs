using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Admin;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>The home side moving a real (idle) child to node 2, the test speaking for node 2 over loopback.</summary>
public sealed class HomeMigrationTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(20);
    private readonly Socket _listener = LinkPairs.Listen();
    private readonly FakeMigrationEngine _engine = new();
    private readonly ProcessRegistry _registry = new(1);
    private readonly ChildProcess _child;
    private readonly SafeFileHandle _stdoutRead;
    // The child's stdin: what the test writes here home relays to the copy when the target relays input.
    private readonly SafeFileHandle _stdinWrite;
    private readonly HomeMigration _home;

    public HomeMigrationTests()
    {
        var (read, write) = Descriptors.CreatePipe();
        _stdoutRead = read;
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        _stdinWrite = stdinWrite;
        using (write)
        using (stdinRead)
            _child = ChildProcess.Start("/bin/sleep", ["60"], stdin: stdinRead, stdout: write);
        _home = new HomeMigration(_engine, _engine, _registry, () => 1, node => node == 2 ? LinkPairs.Endpoint(_listener) : null,
            () => new ClusterView(1, "127.0.0.1", "test", []), LinkPairs.Security(1), NullLogger.Instance) { Precopy = false, AllowRoot = true };
        _home.Start();
    }

    public void Dispose()
    {
        _child.Dispose();
        _stdoutRead.Dispose();
        _stdinWrite.Dispose();
        _listener.Dispose();
    }

    [Fact]
    public async Task A_refusing_target_leaves_the_process_at_home_untouched()
    {
        var process = _registry.Register(_child.Pid, 0);
        var move = _home.MigrateAsync(process, 2, TestContext.Current.CancellationToken);
        await using var target = await LinkPairs.AcceptAsync(_listener, 2);
        var offer = await MessageWire.ReceiveAsync<Offer>(target, Answer);
        Assert.Equal((_child.Pid, 1), (offer.Pid, offer.HomeNode));
        await MessageWire.SendAsync(target, new Refuse("blocked"), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationException>(() => move);
        Assert.Equal($"node 2 refused process {_child.Pid}: blocked", error.Message);
        Assert.Equal(ProcessState.Home, process.State);
        Assert.Empty(_engine.Calls);
    }

    [Fact]
    public async Task While_omd_stops_no_move_out_begins_and_the_caller_is_told_why()
    {
        var gate = new StopGate();
        var home = new HomeMigration(_engine, _engine, _registry, () => 1, node => node == 2 ? LinkPairs.Endpoint(_listener) : null,
            () => new ClusterView(1, "127.0.0.1", "test", []), LinkPairs.Security(1), NullLogger.Instance) { Precopy = false, AllowRoot = true, Gate = gate };
        var process = _registry.Register(_child.Pid, 0);
        gate.Close();

        var error = await Assert.ThrowsAsync<MigrationException>(() => home.MigrateAsync(process, 2, TestContext.Current.CancellationToken));
        Assert.Equal($"omd is stopping: process {_child.Pid} stays home (no move out while it drains)", error.Message);
        Assert.True(error.Refused);
        Assert.Equal(ProcessState.Home, process.State);
        Assert.Empty(_engine.Calls);
    }

    [Fact]
    public async Task A_target_that_fails_to_restore_lets_the_frozen_process_run_on_at_home()
    {
        var process = _registry.Register(_child.Pid, 0);
        var move = _home.MigrateAsync(process, 2, TestContext.Current.CancellationToken);
        await using var target = await LinkPairs.AcceptAsync(_listener, 2);
        await TakeImageAsync(target);
        await MessageWire.SendAsync(target, new Failed("out of memory"), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationException>(() => move);
        Assert.Equal($"node 2 could not restore process {_child.Pid}: out of memory", error.Message);
        Assert.Equal(ProcessState.Home, process.State);
        Assert.Equal([$"checkpoint {_child.Pid}", $"thaw {_child.Pid}"], _engine.Calls);
    }

    [Fact]
    public async Task A_move_reports_its_steps_and_bytes_to_whoever_asked_for_them()
    {
        var steps = new System.Collections.Concurrent.ConcurrentQueue<MigrationProgress>();
        var process = _registry.Register(_child.Pid, 0);
        var move = _home.MigrateAsync(process, 2, TestContext.Current.CancellationToken, null, new Recorder(steps));
        await using var target = await LinkPairs.AcceptAsync(_listener, 2).WaitAsync(Answer, TestContext.Current.CancellationToken);
        await TakeImageAsync(target);
        await MessageWire.SendAsync(target, new Restored(4242, [], RelaysInput: false), TestContext.Current.CancellationToken);
        await MessageWire.ReceiveAsync<Commit>(target, Answer);
        await MessageWire.SendAsync(target, new Running(), TestContext.Current.CancellationToken);
        var result = await move;

        Assert.Equal([MigrationProgress.Frozen, MigrationProgress.Restoring], steps.Select(s => s.Phase).Distinct());
        Assert.Equal(result.ImageBytes, steps.Last().Bytes);
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.Second.Bytes >= p.First.Bytes), "the bytes sent went backwards");
    }

    [Fact]
    public async Task A_moved_process_relays_its_output_and_ends_with_the_exit_status_of_its_copy()
    {
        var (process, target) = await MoveAsync(relayedOutputs: [1]);
        await using (target)
        {
            await target.SendAsync(FrameType.Stdio, new byte[] { 1, (byte)'h', (byte)'i' }, TestContext.Current.CancellationToken);
            var buffer = new byte[2];
            Assert.Equal(2, Descriptors.Read(_stdoutRead, buffer));
            Assert.Equal("hi"u8.ToArray(), buffer);

            _engine.RaiseSignal(_child.Pid, Signals.SIGTERM);
            Assert.Equal(new ForwardSignal(Signals.SIGTERM), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));

            await MessageWire.SendAsync(target, new Exited(7, 0), TestContext.Current.CancellationToken);
            Poll.Until(() => _registry.Find(_child.Pid) is null, Answer, "the process to be forgotten");
            Assert.Contains($"end-deputy {_child.Pid} exited with code 7", _engine.Calls);
        }
    }

    /// <summary>The deputy SIGKILLed at home (no tracer intercepts that): its copy is sent SIGKILL on the link and ends as
    /// any copy does, its node reporting the exit. Before, home only closed the link, which the copy's node tells from
    /// home's omd killed only after probing home's port and a 5 s grace for a new omd's resume, the copy running on.</summary>
    [Fact]
    public async Task A_deputy_killed_at_home_has_its_copy_killed_over_the_link_and_its_relay_ends_with_the_copys_exit()
    {
        var (_, target) = await MoveAsync(relayedOutputs: [1]);
        await using (target)
        {
            _engine.RaiseDied(_child.Pid);
            Assert.Equal(new ForwardSignal(Signals.SIGKILL), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
            await MessageWire.SendAsync(target, new Exited(0, Signals.SIGKILL), TestContext.Current.CancellationToken);
            Poll.Until(() => _registry.Find(_child.Pid) is null, Answer, "the process to be forgotten");
            Assert.Contains($"end-deputy {_child.Pid} killed by signal 9", _engine.Calls);
        }
    }

    /// <summary>The deputy killed between its making and its relay's start: its copy gets SIGKILL once the relay starts
    /// (the death held as signals then are). Before, no relay was found, nothing was said, and the copy ran on.</summary>
    [Fact]
    public async Task A_deputy_killed_as_it_is_made_has_its_copy_killed_once_its_relay_starts()
    {
        _engine.WhenDeputyMade = _engine.RaiseDied;
        var (_, target) = await MoveAsync(relayedOutputs: [1]);
        await using (target)
        {
            Assert.Equal(new ForwardSignal(Signals.SIGKILL), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
            await MessageWire.SendAsync(target, new Exited(0, Signals.SIGKILL), TestContext.Current.CancellationToken);
            Poll.Until(() => _registry.Find(_child.Pid) is null, Answer, "the process to be forgotten");
        }
    }

    /// <summary>The copy's node says nothing after that SIGKILL: home closes the link after its patience, which ends
    /// the copy there too (as the link's close alone did before), and the process is lost here.</summary>
    [Fact]
    public async Task A_deputy_killed_at_home_whose_copys_node_does_not_answer_has_its_link_closed_after_a_while()
    {
        var home = new HomeMigration(_engine, _engine, _registry, () => 1, node => node == 2 ? LinkPairs.Endpoint(_listener) : null,
            () => new ClusterView(1, "127.0.0.1", "test", []), LinkPairs.Security(1), NullLogger.Instance)
        { Precopy = false, AllowRoot = true, CopyKillPatience = TimeSpan.FromMilliseconds(300) };
        home.Start();
        var (process, target) = await MoveAsync(relayedOutputs: [1], home: home);
        await using (target)
        {
            _engine.RaiseDied(_child.Pid);
            Assert.Equal(new ForwardSignal(Signals.SIGKILL), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
            var end = await Record.ExceptionAsync(async () =>
            {
                while (await target.ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken) is { } frame)
                    Assert.Equal(FrameType.Heartbeat, frame.Type);
            });
            Assert.True(end is null or LinkException, $"home did not close the link: {end}");
            Poll.Until(() => process.State == ProcessState.Lost, Answer, "the process to be lost at home");
        }
    }

    /// <summary>Signals the deputy gets between its making and its relay's start (a resize, a ^C right as `om migrate`
    /// returns) are held and forwarded first, in order, when the relay starts: without the hold they found no relay
    /// and were dropped.</summary>
    [Fact]
    public async Task Signals_sent_to_the_deputy_right_as_it_is_made_are_forwarded_in_order_once_its_relay_starts()
    {
        _engine.WhenDeputyMade = pid =>
        {
            _engine.RaiseSignal(pid, Signals.SIGUSR1);
            _engine.RaiseSignal(pid, Signals.SIGTERM);
        };
        var (_, target) = await MoveAsync(relayedOutputs: [1]);
        await using (target)
        {
            Assert.Equal(new ForwardSignal(Signals.SIGUSR1), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
            Assert.Equal(new ForwardSignal(Signals.SIGTERM), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
            // And one after the relay started is forwarded as ever, after them.
            _engine.RaiseSignal(_child.Pid, Signals.SIGUSR2);
            Assert.Equal(new ForwardSignal(Signals.SIGUSR2), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
        }
    }

    [Fact]
    public async Task A_link_closing_mid_relay_marks_the_process_lost_and_its_deputy_killed()
    {
        var (process, target) = await MoveAsync(relayedOutputs: []);
        target.Dispose();
        // The process is marked lost just before its deputy is ended: wait for both.
        Poll.Until(() => process.State == ProcessState.Lost, Answer, "the process to be lost");
        Poll.Until(() => _engine.Calls.Contains($"end-deputy {_child.Pid} killed by signal {Signals.SIGKILL}"), Answer, "its deputy to be ended as killed");
    }

    [Fact]
    public async Task A_move_on_request_home_cannot_carry_out_is_answered_move_failed()
    {
        var (process, target) = await MoveAsync(relayedOutputs: []);
        await using (target)
        {
            await MessageWire.SendAsync(target, new MoveRequest(9, "load", 0), TestContext.Current.CancellationToken);
            var failed = await MessageWire.ReceiveAsync<MoveFailed>(target, Answer);
            Assert.Equal("node 9 is not in the map", failed.Reason);
            Assert.Equal(ProcessState.Remote, process.State);
        }
    }

    [Fact]
    public async Task A_process_that_executes_a_new_program_during_its_move_is_moved_on_a_second_try()
    {
        _engine.ReplacedOnce = true;
        var (process, target) = await MoveAsync(relayedOutputs: [], firstTryVoided: true);
        await using (target)
        {
            Assert.Equal([$"replaced {_child.Pid}", $"checkpoint {_child.Pid}", $"make-deputy {_child.Pid}"], _engine.Calls);
            Assert.Equal(ProcessState.Remote, process.State);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_signal_sent_while_the_process_is_on_its_way_home_reaches_it_where_it_ends_up(bool cameHome)
    {
        var (process, target) = await MoveAsync(relayedOutputs: []);
        await using (target)
        {
            if (!cameHome) _engine.RestoreIntoFails = "no room";
            var homecoming = _home.BringHomeAsync(process);
            await MessageWire.ReceiveAsync<ComeHome>(target, Answer);
            // The deputy is sent SIGTERM while the copy freezes: nothing may reach the target now.
            _engine.RaiseSignal(_child.Pid, Signals.SIGTERM);
            await MessageWire.SendAsync(target, new ImageFollows(), TestContext.Current.CancellationToken);
            await target.SendAsync(FrameType.Image, "image"u8.ToArray(), TestContext.Current.CancellationToken);
            await target.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
            await MessageWire.SendAsync(target, new InputTaken(0, 0, false), TestContext.Current.CancellationToken);
            if (cameHome)
            {
                await MessageWire.ReceiveAsync<WelcomeHome>(target, Answer);
                await homecoming;
                // Home now: the signal goes to the process itself (here, the real child standing for it).
                Assert.Equal(Signals.SIGTERM, _child.WaitForExit(Answer).Signal);
            }
            else
            {
                await MessageWire.ReceiveAsync<Stay>(target, Answer);
                await Assert.ThrowsAsync<MigrationException>(() => homecoming);
                // It stays there: the signal follows it.
                Assert.Equal(new ForwardSignal(Signals.SIGTERM), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
                Assert.False(_child.HasExited);
            }
        }
    }

    [Fact]
    public async Task Input_the_copy_left_unread_comes_first_on_the_stdin_of_the_process_back_home()
    {
        var (process, target) = await MoveAsync(relayedOutputs: [], relaysInput: true);
        await using (target)
        {
            Descriptors.WriteAll(_stdinWrite, "abcdefghij"u8);
            Assert.Equal("abcdefghij", await ReadInputAsync(target, 10));
            var homecoming = _home.BringHomeAsync(process);
            await MessageWire.ReceiveAsync<ComeHome>(target, Answer);
            // The copy read "abcd"; "efghij" was still in its pipe when it froze.
            await SendImageHomeAsync(target, new InputTaken(10, 6, Ended: false));
            await MessageWire.ReceiveAsync<WelcomeHome>(target, Answer);
            await homecoming;
            Descriptors.WriteAll(_stdinWrite, "KLM"u8);
            _stdinWrite.Dispose();
            using var stdin = new StreamReader(new FileStream(_engine.NewInput!, FileAccess.Read));
            Assert.Equal("efghijKLM", await stdin.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken));
            Assert.Equal([$"restore-into {_child.Pid}", $"replace-input {_child.Pid}", $"let-run {_child.Pid}"], _engine.Calls.Skip(2));
        }
    }

    [Fact]
    public async Task Input_the_copy_s_node_dropped_goes_to_it_again_when_it_cannot_come_home()
    {
        var (process, target) = await MoveAsync(relayedOutputs: [], relaysInput: true);
        await using (target)
        {
            Descriptors.WriteAll(_stdinWrite, "abcdefghij"u8);
            Assert.Equal("abcdefghij", await ReadInputAsync(target, 10));
            _engine.RestoreIntoFails = "no room";
            var homecoming = _home.BringHomeAsync(process);
            await MessageWire.ReceiveAsync<ComeHome>(target, Answer);
            // Its node wrote "abcd" into the copy's pipe and dropped the rest, which came while it was frozen.
            await SendImageHomeAsync(target, new InputTaken(4, 0, Ended: false));
            await MessageWire.ReceiveAsync<Stay>(target, Answer);
            await Assert.ThrowsAsync<MigrationException>(() => homecoming);
            Assert.Equal("efghij", await ReadInputAsync(target, 6));
            // And the relay goes on after them.
            Descriptors.WriteAll(_stdinWrite, "K"u8);
            Assert.Equal("K", await ReadInputAsync(target, 1));
            Assert.Equal(ProcessState.Remote, process.State);
        }
    }

    [Fact]
    public async Task A_pre_copied_trip_home_fills_the_deputy_round_by_round_then_takes_the_frozen_rest()
    {
        var (process, target) = await MoveAsync(relayedOutputs: []);
        await using (target)
        {
            var homecoming = _home.BringHomeAsync(process, precopy: true);
            Assert.True((await MessageWire.ReceiveAsync<ComeHome>(target, Answer)).Precopy);
            await SendRoundAsync(target, 1);
            await MessageWire.ReceiveAsync<RoundTaken>(target, Answer);
            await SendImageHomeAsync(target, new InputTaken(0, 0, Ended: false));
            await MessageWire.ReceiveAsync<WelcomeHome>(target, Answer);
            var result = await homecoming;
            Assert.Equal((1, 5L), (result.PrecopyRounds, result.PrecopyBytes));
            Assert.Equal([$"take-round {_child.Pid}", $"restore-into {_child.Pid}", $"let-run {_child.Pid}"], _engine.Calls.Skip(2));
            Assert.Equal(ProcessState.Home, process.State);
        }
    }

    [Fact]
    public async Task A_round_home_cannot_take_leaves_the_process_running_where_it_is()
    {
        var (process, target) = await MoveAsync(relayedOutputs: []);
        await using (target)
        {
            _engine.TakeRoundFails = "no room";
            var homecoming = _home.BringHomeAsync(process, precopy: true);
            await MessageWire.ReceiveAsync<ComeHome>(target, Answer);
            await SendRoundAsync(target, 1);
            Assert.Equal(new Stay("no room"), await MessageWire.ReceiveAsync<Stay>(target, Answer));
            var error = await Assert.ThrowsAsync<MigrationException>(() => homecoming);
            Assert.Contains("runs on at node 2", error.Message, StringComparison.Ordinal);
            Assert.Equal((ProcessState.Remote, (ushort)2), (process.State, process.Where));
            Assert.Contains($"abandon-rounds {_child.Pid}", _engine.Calls);
            // Still relayed: a signal to the deputy reaches the copy.
            _engine.RaiseSignal(_child.Pid, Signals.SIGTERM);
            Assert.Equal(new ForwardSignal(Signals.SIGTERM), await MessageWire.ReceiveAsync<ForwardSignal>(target, Answer));
        }
    }

    private static async Task SendRoundAsync(NodeLink target, int round)
    {
        await MessageWire.SendAsync(target, new PrecopyRound(round), TestContext.Current.CancellationToken);
        await target.SendAsync(FrameType.Image, "round"u8.ToArray(), TestContext.Current.CancellationToken);
        await target.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
    }

    /// <summary>What the copy's node sends on a trip home: image-follows, the image, how much input it took.</summary>
    private static async Task SendImageHomeAsync(NodeLink target, InputTaken input)
    {
        await MessageWire.SendAsync(target, new ImageFollows(), TestContext.Current.CancellationToken);
        await target.SendAsync(FrameType.Image, "image"u8.ToArray(), TestContext.Current.CancellationToken);
        await target.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
        await MessageWire.SendAsync(target, input, TestContext.Current.CancellationToken);
    }

    /// <summary><paramref name="count"/> bytes of input relayed to the copy.</summary>
    private static async Task<string> ReadInputAsync(NodeLink target, int count)
    {
        var input = new List<byte>();
        while (input.Count < count)
        {
            var frame = await target.ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken)
                ?? throw new Xunit.Sdk.XunitException("the link closed");
            Assert.Equal((FrameType.Stdio, (byte)0), (frame.Type, frame.Payload[0]));
            input.AddRange(frame.Payload.Skip(1));
        }
        return System.Text.Encoding.ASCII.GetString([.. input]);
    }

    /// <summary>A migration to node 2 through to the copy running; returns the target's end of the relay.</summary>
    private async Task<(ManagedProcess, NodeLink)> MoveAsync(IReadOnlyList<int> relayedOutputs, bool firstTryVoided = false, bool relaysInput = false,
        HomeMigration? home = null)
    {
        var process = _registry.Register(_child.Pid, 0);
        var move = (home ?? _home).MigrateAsync(process, 2, TestContext.Current.CancellationToken);
        if (firstTryVoided)
        {
            // Home gives the first link up after its final image failed, and starts over on a new one.
            await using var first = await LinkPairs.AcceptAsync(_listener, 2);
            await MessageWire.ReceiveAsync<Offer>(first, Answer);
            await MessageWire.SendAsync(first, new Accept(), TestContext.Current.CancellationToken);
            while (await first.ReceiveAsync(TestContext.Current.CancellationToken) is not null)
            {
            }
        }
        var target = await LinkPairs.AcceptAsync(_listener, 2).WaitAsync(Answer, TestContext.Current.CancellationToken);
        await TakeImageAsync(target);
        await MessageWire.SendAsync(target, new Restored(4242, relayedOutputs, relaysInput), TestContext.Current.CancellationToken);
        await MessageWire.ReceiveAsync<Commit>(target, Answer);
        await MessageWire.SendAsync(target, new Running(), TestContext.Current.CancellationToken);
        var result = await move;
        Assert.Equal((1, 2, 4242), (result.From, result.To, result.RemotePid));
        Assert.Equal((ProcessState.Remote, (ushort)2), (process.State, process.Where));
        Assert.Contains($"make-deputy {_child.Pid}", _engine.Calls);
        return (process, target);
    }

    private sealed class Recorder(System.Collections.Concurrent.ConcurrentQueue<MigrationProgress> steps) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => steps.Enqueue(value);
    }

    private static async Task TakeImageAsync(NodeLink target)
    {
        await MessageWire.ReceiveAsync<Offer>(target, Answer);
        await MessageWire.SendAsync(target, new Accept(), TestContext.Current.CancellationToken);
        await MessageWire.ReceiveAsync<Final>(target, Answer);
        while (await target.ReceiveAsync(TestContext.Current.CancellationToken) is { Type: FrameType.Image })
        {
        }
    }
}
