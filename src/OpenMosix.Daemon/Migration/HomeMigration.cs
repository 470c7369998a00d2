using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Admin;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The home side: moves a managed process to another node and then stands in for it. Until the target reports the
/// copy running, the original is only frozen, and any failure lets it run on where it was. After that the original
/// is the deputy: its descriptors relay the copy's stdio, signals sent to it are forwarded, and it ends with the
/// copy's exit status. If the copy's node dies, the process is reported lost and the deputy ends as if SIGKILLed.
/// </summary>
public sealed partial class HomeMigration(
    CheckpointEngine engine,
    IDeputyHost deputies,
    ProcessRegistry registry,
    Func<ushort> selfNode,
    Func<ushort, IPEndPoint?> endpointOf,
    Func<ClusterView> viewOf,
    byte[] key,
    ILogger logger)
{
    private readonly Dictionary<int, RelayState> _relays = [];

    /// <summary>Copy memory while the process runs and freeze it only for the rest (migration.precopy).</summary>
    public bool Precopy { get; init; } = true;
    /// <summary>Most pre-copy rounds (migration.precopy_rounds).</summary>
    public int PrecopyRounds { get; init; } = 4;

    /// <summary>This node's memory (total, free) now; with it, a process is brought home on its way to another node
    /// only if it fits here, keeping <see cref="KeepFreeFraction"/> free.</summary>
    public Func<(ulong Total, ulong Free)>? LocalMemory { get; init; }

    public double KeepFreeFraction { get; init; } = 0.10;

    /// <summary>One moved process's link, and a pending request to bring it home.</summary>
    private sealed class RelayState(NodeLink link, ManagedProcess process)
    {
        public NodeLink Link { get; } = link;
        public ManagedProcess Process { get; } = process;
        /// <summary>The process's terminal at home, if its stdio is one: takes the modes the copy sets, gives its size.</summary>
        public SafeFileHandle? Terminal { get; init; }
        public TaskCompletionSource<MigrationResult>? Homecoming { get; set; }
    }
    private readonly Lock _gate = new();

    public void Start()
    {
        deputies.SignalArrived += (pid, signal) =>
        {
            RelayState? relay;
            lock (_gate) _relays.TryGetValue(pid, out relay);
            if (relay is null) return;
            // A window size change: the copy's terminal must have the new size when the copy asks for it.
            var size = signal == Signals.SIGWINCH && relay.Terminal is { IsClosed: false } terminal ? Terminal.ReadSize(terminal) : null;
            _ = ControlMessage.SendAsync(relay.Link, new ControlMessage("signal") { Signal = signal, TerminalSize = size });
        };
        deputies.DeputyDied += pid =>
        {
            // SIGKILL at home: the copy dies with it (closing the link tells the target so).
            if (Relay(pid) is { } link) link.Dispose();
        };
    }

    /// <summary>
    /// `om run --on/--among/--lock`: records the lock now and, once the process has exec'd its program (om registers
    /// before it execs), moves it where asked. A node that is not alive is skipped for the least loaded one only with
    /// --fallback; otherwise the process stays home and the log says why.
    /// </summary>
    public void PlaceAfterExec(ManagedProcess process, RunRequest placement)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(placement);
        registry.Update(process, p => p.Locked = placement.Lock);
        if (placement.Home || (placement.On == 0 && placement.Among.Count == 0)) return;
        _ = Task.Run(async () =>
        {
            await WaitForExecAsync(process).ConfigureAwait(false);
            var view = viewOf();
            ushort? target = placement.On != 0
                ? (Placement.IsAlive(view, placement.On) ? (ushort)placement.On : null)
                : Placement.LeastLoaded(view, placement.Among);
            if (target is null && placement.Fallback) target = Placement.LeastLoaded(view);
            if (target is null || target == selfNode())
            {
                LogPlacementSkipped(logger, process.Pid, "the requested nodes are not available");
                return;
            }
            try
            {
                await MigrateAsync(process, target.Value, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException)
            {
                LogPlacementSkipped(logger, process.Pid, e.Message);
            }
        });
    }

    /// <summary>Until the process (registered by om run, which then execs) runs its program: moving om itself would
    /// be pointless. Compared with what it ran when it registered (om cannot have exec'd before its registration was
    /// answered); gives up after 10 s (a program that never execs is moved as it is).</summary>
    public static async Task WaitForExecAsync(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (process.RegisteredExecutable is { } om && ProcessRegistry.ExecutableOf(process.Pid) == om && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(5).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a process to <paramref name="target"/>: a node id, "home", or "balance" (the least loaded other alive
    /// node, until the balancer decides). Throws <see cref="ArgumentException"/> for a target that makes no sense.
    /// </summary>
    public Task<MigrationResult> MoveAsync(ManagedProcess process, string target, CancellationToken cancel, bool? precopy = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(target);
        var view = viewOf();
        ushort node;
        if (target == "home") node = process.Home;
        else if (target == "balance")
            node = Placement.LeastLoaded(view) ?? throw new MigrationException("no other node is alive to balance to");
        else if (!ushort.TryParse(target, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out node) || node == 0)
            throw new ArgumentException($"'{target}' is not a node id, home or balance");
        if (node == process.Where)
            throw new MigrationException($"process {process.Pid} already runs on node {node}");
        if (view.Nodes.FirstOrDefault(n => n.Id == node) is not { } entry)
            throw new MigrationException($"node {node} is not in the map");
        if (entry.State != NodeLiveness.Alive)
            throw new MigrationException($"node {node} is {entry.State.Name()}");
        if (node == selfNode()) return BringHomeAsync(process);
        if (process.State == ProcessState.Remote)
            return ViaHomeAsync(process, node, cancel, precopy);
        return MigrateAsync(process, node, cancel, precopy);
    }

    /// <summary>From one remote node to another: home first (a moment at home, frozen), then out again.</summary>
    private async Task<MigrationResult> ViaHomeAsync(ManagedProcess process, ushort node, CancellationToken cancel, bool? precopy)
    {
        var from = process.Where;
        await BringHomeAsync(process).ConfigureAwait(false);
        var result = await MigrateAsync(process, node, cancel, precopy).ConfigureAwait(false);
        return result with { From = from };
    }

    public async Task<MigrationResult> MigrateAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (target == selfNode()) throw new MigrationException($"process {process.Pid} is already home");
        if (process.State != ProcessState.Home)
            throw new MigrationException($"process {process.Pid} is {process.State.ToString().ToLowerInvariant()}, not at home");
        var report = engine.AnalyzeCantMove(process.Pid);
        registry.Update(process, p => p.CantMove = report.Reasons);
        if (!report.CanMove) throw new MigrationException($"process {process.Pid} cannot move: {string.Join("; ", report.Reasons)}");
        var endpoint = endpointOf(target) ?? throw new MigrationException($"node {target} is not in the map");

        NodeLink link;
        try
        {
            link = await NodeLink.ConnectAsync(endpoint, selfNode(), key, cancel).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            throw new MigrationException($"node {target}: {e.Message}", e);
        }
        var keepLink = false;
        try
        {
            var result = await MoveAsync(process, target, link, precopy ?? Precopy, cancel).ConfigureAwait(false);
            keepLink = true;
            return result;
        }
        finally
        {
            if (!keepLink) await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<MigrationResult> MoveAsync(ManagedProcess process, ushort target, NodeLink link, bool precopy, CancellationToken cancel)
    {
        var pid = process.Pid;
        registry.Update(process, p => p.Command = ProcessRegistry.CommandOf(pid));
        var uname = SystemInfo.Uname();
        var terminal = TerminalOf(pid);
        await ControlMessage.SendAsync(link, new ControlMessage("offer")
        {
            Pid = pid,
            Uid = (int)process.Uid,
            HomeNode = selfNode(),
            Command = process.Command,
            Kernel = $"{uname.Release} {uname.Version}",
            MemoryBytes = ProcFs.ReadResidentBytes(pid),
            Decay = process.Decay is { } decay ? Balancing.JobOptions.Name(decay) : null,
            Hint = process.Hint == OpenMosix.Balancing.Demand.JobHint.Measured ? null : process.Hint.ToString().ToLowerInvariant(),
            Files = MappedFiles(pid),
            TerminalModes = terminal.Modes,
            TerminalSize = terminal.Size,
        }, cancel).ConfigureAwait(false);
        var answer = await ControlMessage.ReceiveAsync(link, GuestSession.AnswerTimeout, "accept", "refuse").ConfigureAwait(false);
        if (answer.Kind == "refuse") throw new MigrationException($"node {target} refused process {pid}: {answer.Reason}");

        registry.Update(process, p => p.State = ProcessState.Migrating);
        var whole = System.Diagnostics.Stopwatch.StartNew();
        PrecopySession? session = null;
        var (rounds, precopied) = (0, 0L);
        System.Diagnostics.Stopwatch frozenAt;
        long bytes;
        try
        {
            if (precopy) (session, rounds, precopied) = await PrecopyAsync(pid, target, link, cancel).ConfigureAwait(false);
            await ControlMessage.SendAsync(link, new ControlMessage("final"), cancel).ConfigureAwait(false);
            frozenAt = System.Diagnostics.Stopwatch.StartNew();
            bytes = await LinkImageWriteStream.SendAsync(link,
                writer => engine.Checkpoint(pid, writer, new DumpOptions(AfterDump.KeepFrozen) { Precopy = session })).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The dumper resumed the process before rethrowing (a pre-copy never stopped it for longer than a call).
            session?.Dispose();
            registry.Update(process, p => p.State = ProcessState.Home);
            if (e is MigrationException) throw;
            if (e is LinkException || e.InnerException is LinkException)
                throw new MigrationException($"node {target} failed during the transfer ({e.Message}); process {pid} runs on here", e);
            throw new MigrationException($"checkpoint of process {pid} failed: {e.Message}", e);
        }
        // The frozen process changes nothing more: the write tracking has done its work.
        session?.Dispose();

        ControlMessage running;
        ControlMessage restored;
        try
        {
            restored = await ControlMessage.ReceiveAsync(link, GuestSession.AnswerTimeout, "restored", "failed").ConfigureAwait(false);
            if (restored.Kind == "failed") throw new MigrationException($"node {target} could not restore process {pid}: {restored.Reason}");
            await ControlMessage.SendAsync(link, new ControlMessage("commit"), cancel).ConfigureAwait(false);
            running = await ControlMessage.ReceiveAsync(link, GuestSession.AnswerTimeout, "running").ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or MigrationException)
        {
            engine.Thaw(pid);
            registry.Update(process, p => p.State = ProcessState.Home);
            LogCalledOff(logger, pid, target, e.Message);
            throw e as MigrationException ?? new MigrationException($"node {target}: {e.Message}", e);
        }
        var frozen = frozenAt.Elapsed;

        try
        {
            deputies.MakeDeputy(pid);
        }
        catch (Checkpoint.Tracing.TraceeGoneException e)
        {
            // Killed at home while it waited frozen (the OOM killer on the node it is leaving): it is dead to its
            // parent, so its copy must not live on; closing the link (the caller does) ends it on the target.
            registry.Update(process, p => p.State = ProcessState.Home);
            registry.Forget(pid);
            throw new MigrationException($"process {pid} was killed at home before its move to node {target} completed; its copy there is ended", e);
        }
        // A deputy keeps its descriptors: the relay takes them from it.
        var descriptors = OpenDescriptors(pid, restored);
        registry.Update(process, p =>
        {
            p.State = ProcessState.Remote;
            p.Where = target;
            p.Migrations++;
            p.RemotePid = restored.RemotePid;
        });
        var homeTerminal = descriptors.Values.FirstOrDefault(d => Terminal.ReadModes(d) is not null);
        lock (_gate) _relays[pid] = new RelayState(link, process) { Terminal = homeTerminal };
        _ = Task.Run(() => RelayAsync(process, link, descriptors), CancellationToken.None);
        LogMoved(logger, pid, target, restored.RemotePid, bytes >> 20, frozen.TotalMilliseconds, rounds, precopied >> 20);
        return new MigrationResult(pid, selfNode(), target, bytes, (long)frozen.TotalMilliseconds, restored.RemotePid)
        {
            PrecopyRounds = rounds,
            PrecopyBytes = precopied,
            TotalMs = (long)whole.Elapsed.TotalMilliseconds,
        };
    }

    /// <summary>
    /// Copies the process's memory to the target in rounds while it runs on: everything first, then what it wrote
    /// meanwhile, until that stops shrinking, drops under <see cref="SmallEnough"/>, or the rounds run out. Each
    /// round is an image of its own on the link, acknowledged by the target. A kernel without write tracking
    /// means no pre-copy (the whole image then goes frozen); a refusal or failure of the target ends the migration
    /// with the process untouched.
    /// </summary>
    private async Task<(PrecopySession? Session, int Rounds, long Bytes)> PrecopyAsync(int pid, ushort target, NodeLink link, CancellationToken cancel)
    {
        var session = await Blocking.Run(() => engine.StartPrecopy(pid)).ConfigureAwait(false);
        if (session is null) return (null, 0, 0);
        try
        {
            var total = 0L;
            var previous = long.MaxValue;
            for (var round = 1; round <= PrecopyRounds; round++)
            {
                await ControlMessage.SendAsync(link, new ControlMessage("precopy") { Round = round }, cancel).ConfigureAwait(false);
                var sent = await LinkImageWriteStream.SendAsync(link, writer => session.WriteRound(writer)).ConfigureAwait(false);
                var answer = await ControlMessage.ReceiveAsync(link, GuestSession.AnswerTimeout, "precopied", "failed").ConfigureAwait(false);
                if (answer.Kind == "failed") throw new MigrationException($"node {target} could not take the pre-copy of process {pid}: {answer.Reason}");
                total += sent;
                // Stop once what is left is small, or no longer shrinking: another round would not shorten the freeze.
                // What is left is known without copying it: the pages written since this round began.
                var pending = (long)Math.Min(session.PendingBytes(), long.MaxValue);
                if (sent < SmallEnough || pending < SmallEnough || pending > sent / 2 || (round > 1 && sent > previous / 2)) break;
                previous = sent;
            }
            return (session, session.Rounds, total);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>A round that copied less than this ends the pre-copy: the freeze takes the rest in a few ms.</summary>
    private const long SmallEnough = 4 << 20;

    /// <summary>Copies of the original's descriptors the target relays (its stdio), taken before it becomes a deputy.</summary>
    private static Dictionary<int, SafeFileHandle> OpenDescriptors(int pid, ControlMessage restored)
    {
        var handles = new Dictionary<int, SafeFileHandle>();
        using var pidfd = PidFd.Open(pid);
        foreach (var fd in restored.RelayedOutputs ?? []) handles[fd] = pidfd.GetFd(fd);
        if (restored.RelaysInput) handles[0] = pidfd.GetFd(0);
        return handles;
    }

    private async Task RelayAsync(ManagedProcess process, NodeLink link, Dictionary<int, SafeFileHandle> descriptors)
    {
        var pid = process.Pid;
        var inputStop = new CancellationTokenSource();
        descriptors.Remove(0, out var stdin);
        var input = stdin is not null ? PumpInputAsync(stdin, link, inputStop.Token) : Task.CompletedTask;
        var outputs = descriptors.ToDictionary(d => d.Key, d => new FileStream(d.Value, FileAccess.Write, 0, isAsync: false));
        void Write(Frame frame)
        {
            if (frame.Type != FrameType.Stdio || frame.Payload.Length < 2 || !outputs.TryGetValue(frame.Payload[0], out var output)) return;
            try
            {
                output.Write(frame.Payload, 1, frame.Payload.Length - 1);
            }
            catch (IOException)
            {
                // The reader at home went away (a closed pipe): the copy would have got EPIPE; it runs on.
            }
        }
        ExitStatus? status = null;
        string? lost = null;
        var cameHome = false;
        try
        {
            while (await link.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
            {
                if (frame.Type == FrameType.Control)
                {
                    var message = ControlMessage.Parse(frame, link.PeerNode, "exit", "image-follows", "terminal-modes", "move");
                    if (message.Kind == "exit")
                    {
                        status = new ExitStatus(message.Code, message.Signal);
                        break;
                    }
                    if (message.Kind == "terminal-modes")
                    {
                        ApplyTerminalModes(pid, message.TerminalModes);
                        continue;
                    }
                    if (message.Kind == "move")
                    {
                        // On a task of its own: bringing it home needs this loop to receive the image.
                        _ = MoveOnRequestAsync(process, link, (ushort)Math.Clamp(message.Target, 0, ushort.MaxValue), message.Reason,
                            (ulong)Math.Max(0, message.MemoryBytes));
                        continue;
                    }
                    // The input must stop before the process runs here again, or this relay would steal its input.
                    await inputStop.CancelAsync().ConfigureAwait(false);
                    await input.ConfigureAwait(false);
                    cameHome = await ReceiveHomeAsync(process, link, Write).ConfigureAwait(false);
                    if (cameHome) break;
                    inputStop.Dispose();
                    inputStop = new CancellationTokenSource();
                    input = stdin is not null ? PumpInputAsync(stdin, link, inputStop.Token) : Task.CompletedTask;
                    continue;
                }
                Write(frame);
            }
            lost ??= status is null && !cameHome ? "the link closed without an exit status" : null;
        }
        catch (LinkException e)
        {
            lost = e.Message;
        }
        finally
        {
            await inputStop.CancelAsync().ConfigureAwait(false);
            await input.ConfigureAwait(false);
            inputStop.Dispose();
            foreach (var output in outputs.Values) await output.DisposeAsync().ConfigureAwait(false);
            stdin?.Dispose();
            RelayState? relay;
            lock (_gate) _relays.Remove(pid, out relay);
            if (!cameHome) relay?.Homecoming?.TrySetException(new MigrationException($"process {pid} did not come home: {lost ?? "it ended first"}"));
            await link.DisposeAsync().ConfigureAwait(false);
        }
        if (cameHome) return;
        if (status is { } done)
        {
            LogRemoteExit(logger, pid, done.ToString());
            registry.Update(process, p => p.State = ProcessState.Home);
            TryEnd(pid, done);
            registry.Forget(pid);
        }
        else
        {
            LogLost(logger, pid, process.Where, lost ?? "unknown");
            registry.Update(process, p => p.State = ProcessState.Lost);
            TryEnd(pid, new ExitStatus(0, Signals.SIGKILL));
        }
    }

    /// <summary>
    /// The node the process runs on asks to move it on (it balances, is short of memory, or expels its guests): home
    /// brings it back, then sends it out again when the target is another node. If it cannot leave that node, the
    /// node hears why; if it came home but the target would not take it, it runs on at home.
    /// </summary>
    private async Task MoveOnRequestAsync(ManagedProcess process, NodeLink link, ushort target, string? reason, ulong memory)
    {
        var from = process.Where;
        LogMoveRequested(logger, process.Pid, from, target, reason ?? "no reason given");
        try
        {
            if (process.State != ProcessState.Remote)
                throw new MigrationException($"process {process.Pid} is {process.State.ToString().ToLowerInvariant()}");
            // It passes through here: on a node short of memory (often the one it was ushered from) the kernel would
            // kill it, or its deputy, while it is rebuilt. The gossiped figure the asking node went by may be old.
            if (LocalMemory?.Invoke() is var (total, free) && free < memory + total * KeepFreeFraction)
                throw new MigrationException($"home (node {selfNode()}) has no room for its {memory >> 20} MiB on the way ({free >> 20} MiB free)");
            if (target == selfNode() || target == 0) await BringHomeAsync(process).ConfigureAwait(false);
            else await MoveAsync(process, target.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or ArgumentException or TimeoutException or LinkException)
        {
            LogMoveOnFailed(logger, process.Pid, target, e.Message);
            if (process.State != ProcessState.Remote || process.Where != from) return;
            try
            {
                await ControlMessage.SendAsync(link, new ControlMessage("move-failed") { Reason = e.Message }).ConfigureAwait(false);
            }
            catch (LinkException)
            {
                // The relay ended meanwhile: the guest's session ends with it.
            }
        }
    }

    /// <summary>The remote node streams the image back: rebuild it into the deputy, then tell it "home" or "stay".</summary>
    private async Task<bool> ReceiveHomeAsync(ManagedProcess process, NodeLink link, Action<Frame> stdio)
    {
        var pid = process.Pid;
        var from = process.Where;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RelayState? relay;
        lock (_gate) _relays.TryGetValue(pid, out relay);
        try
        {
            var bytes = await Blocking.Run(() =>
            {
                var wire = new LinkImageReadStream(link, stdio);
                using (var reader = new ImageReader(wire, leaveOpen: true))
                    deputies.RestoreInto(pid, reader);
                return wire.BytesReceived;
            }).ConfigureAwait(false);
            await ControlMessage.SendAsync(link, new ControlMessage("home")).ConfigureAwait(false);
            registry.Update(process, p =>
            {
                p.State = ProcessState.Home;
                p.Where = selfNode();
                p.Migrations++;
                p.RemotePid = 0;
            });
            LogCameHome(logger, pid, from, bytes >> 20, clock.Elapsed.TotalMilliseconds);
            relay?.Homecoming?.TrySetResult(new MigrationResult(pid, from, selfNode(), bytes, (long)clock.Elapsed.TotalMilliseconds, pid));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not LinkException)
        {
            LogNotHome(logger, pid, e.Message);
            await ControlMessage.SendAsync(link, new ControlMessage("stay") { Reason = e.Message }).ConfigureAwait(false);
            registry.Update(process, p => p.State = ProcessState.Remote);
            lock (_gate)
            {
                if (relay is not null)
                {
                    relay.Homecoming?.TrySetException(new MigrationException($"process {pid} could not come home and runs on at node {from}: {e.Message}", e));
                    relay.Homecoming = null;
                }
            }
            return false;
        }
    }

    /// <summary>The copy changed its terminal's modes: the real terminal, here, takes them, as if it had done so at home.</summary>
    private void ApplyTerminalModes(int pid, byte[]? modes)
    {
        RelayState? relay;
        lock (_gate) _relays.TryGetValue(pid, out relay);
        if (modes is not { Length: Terminal.TermiosSize } || relay?.Terminal is not { IsClosed: false } terminal) return;
        try
        {
            Terminal.WriteModes(terminal, modes);
        }
        catch (SyscallException e)
        {
            LogTerminalModes(logger, pid, e.Message);
        }
    }

    private void TryEnd(int pid, ExitStatus status)
    {
        try
        {
            deputies.EndDeputy(pid, status);
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException or ProcessAccessException
                                       or Checkpoint.Tracing.InjectionException or Checkpoint.Tracing.TraceeGoneException)
        {
            // Gone already (killed at home), or it cannot be driven: it must not hang its parent, so it dies.
            LogDeputyGone(logger, pid, e.Message);
            if (Signals.Exists(pid)) Signals.Kill(pid, Signals.SIGKILL);
        }
    }

    /// <summary>
    /// Reads the deputy's stdin on a thread of its own and sends it on. It waits with poll and reads only what is
    /// there, so it can stop between reads (before the process comes home) without O_NONBLOCK on a shared description.
    /// </summary>
    private static Task PumpInputAsync(SafeFileHandle stdin, NodeLink link, CancellationToken cancel) => Blocking.Run(() =>
    {
        var buffer = new byte[65536 + 1];
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                if (!Readiness.WaitReadable(stdin, TimeSpan.FromMilliseconds(100))) continue;
                if (cancel.IsCancellationRequested) break;
                var n = Descriptors.Read(stdin, buffer.AsSpan(1));
                // ^D on a terminal is an end of input for one read, not for good: the copy's terminal gets its EOF
                // character (with EXTPROC that is one empty read there too) and the terminal stays in use.
                if (n == 0 && !Readiness.IsHungUp(stdin) && Terminal.ReadModes(stdin) is { } modes)
                {
                    buffer[0] = 0;
                    buffer[1] = Terminal.EndOfFile(modes);
                    link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, 2), cancel).GetAwaiter().GetResult();
                    continue;
                }
                if (n == 0)
                {
                    link.SendAsync(FrameType.StdioEnd, new byte[] { 0 }, cancel).GetAwaiter().GetResult();
                    break;
                }
                buffer[0] = 0;
                link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n + 1), cancel).GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is LinkException or IOException or OperationCanceledException or ObjectDisposedException or SyscallException)
        {
            // The relay ended; input that nobody will read is left where it is.
        }
        return 0;
    });

    private NodeLink? Relay(int pid)
    {
        lock (_gate) return _relays.TryGetValue(pid, out var relay) ? relay.Link : null;
    }

    /// <summary>
    /// Brings a moved process home: its node freezes it and streams its image back, and it is rebuilt into its
    /// deputy (same PID, same parent, its own descriptors). If that fails it runs on where it was.
    /// </summary>
    public async Task<MigrationResult> BringHomeAsync(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        RelayState? relay;
        var homecoming = new TaskCompletionSource<MigrationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (!_relays.TryGetValue(process.Pid, out relay)) throw new MigrationException($"process {process.Pid} is not away from home");
            if (relay.Homecoming is not null) throw new MigrationException($"process {process.Pid} is already on its way home");
            relay.Homecoming = homecoming;
        }
        registry.Update(process, p => p.State = ProcessState.Migrating);
        try
        {
            await ControlMessage.SendAsync(relay.Link, new ControlMessage("come-home")).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            throw new MigrationException($"node {process.Where}: {e.Message}", e);
        }
        return await homecoming.Task.WaitAsync(TimeSpan.FromMinutes(10)).ConfigureAwait(false);
    }

    /// <summary>The modes and size of the terminal on the process's stdio, if one of 0-2 is a terminal.</summary>
    private static (byte[]? Modes, byte[]? Size) TerminalOf(int pid)
    {
        try
        {
            using var pidfd = PidFd.Open(pid);
            foreach (var fd in new[] { 0, 1, 2 })
            {
                using var copy = pidfd.GetFd(fd);
                if (Terminal.ReadModes(copy) is { } modes) return (modes, Terminal.ReadSize(copy));
            }
        }
        catch (SyscallException)
        {
            // No such descriptor: no terminal to imitate.
        }
        return (null, null);
    }

    /// <summary>The program and the files it maps (libraries, data), as the target must find them.</summary>
    private static List<FileFingerprint> MappedFiles(int pid)
    {
        var files = new List<FileFingerprint>();
        foreach (var path in ProcFs.ReadMaps(pid).Where(m => m.IsFileBacked && !m.IsDeletedFile).Select(m => m.Name).Distinct(StringComparer.Ordinal))
        {
            try
            {
                files.Add(new FileFingerprint(path, new FileInfo(path).Length));
            }
            catch (IOException)
            {
                // Gone since it was mapped: the cantmove analysis reports deleted files.
            }
        }
        return files;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} moved to node {Node} (pid {RemotePid} there): {MiB} MiB frozen {FrozenMs:F0} ms, after {Rounds} pre-copy rounds of {PrecopiedMiB} MiB")]
    private static partial void LogMoved(ILogger logger, int pid, int node, int remotePid, long mib, double frozenMs, int rounds, long precopiedMiB);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration of process {Pid} to node {Node} called off, it runs on here: {Reason}")]
    private static partial void LogCalledOff(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} ended on its remote node: {Status}")]
    private static partial void LogRemoteExit(ILogger logger, int pid, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "process {Pid} lost: node {Node} is gone ({Reason}); its deputy ends as if killed")]
    private static partial void LogLost(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} starts at home: {Reason}")]
    private static partial void LogPlacementSkipped(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} came home from node {Node}: {MiB} MiB, frozen {FrozenMs:F0} ms")]
    private static partial void LogCameHome(ILogger logger, int pid, int node, long mib, double frozenMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: node {Node} asks to move it to node {Target} ({Reason})")]
    private static partial void LogMoveRequested(ILogger logger, int pid, int node, int target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} not moved on to node {Target}: {Reason}")]
    private static partial void LogMoveOnFailed(ILogger logger, int pid, int target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} could not come home, it runs on where it was: {Reason}")]
    private static partial void LogNotHome(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: its terminal at home refused the modes set remotely: {Reason}")]
    private static partial void LogTerminalModes(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "deputy {Pid} already gone: {Reason}")]
    private static partial void LogDeputyGone(ILogger logger, int pid, string reason);
}
