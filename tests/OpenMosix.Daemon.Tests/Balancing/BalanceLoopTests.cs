using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Admin;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Model;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Processes;
using OpenMosix.Daemon.Tests.Migration;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Balancing;

/// <summary>
/// omd's balance loop without a lab and without root: real processes of the test measured from /proc, a cluster
/// view made by hand (node 1 is this one, node 2 another of one CPU), and a mover that records what it is asked to do.
/// </summary>
public sealed class BalanceLoopTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const long GiB = 1L << 30;
    private readonly ProcessRegistry _registry = new(1);
    private readonly RecordingMover _mover = new();
    private readonly List<ChildProcess> _children = [];

    public void Dispose()
    {
        foreach (var child in _children) child.Dispose();
    }

    [Fact]
    public void Two_cpu_bound_processes_on_a_one_cpu_node_send_one_to_an_idle_node_with_pre_copy()
    {
        var loop = Loop(freeHere: 8 * GiB);
        var first = Register(Spin());
        var second = Register(Spin());

        var move = UntilAMove(loop);
        Assert.Contains(move.Pid, new[] { first.Pid, second.Pid });
        Assert.Equal((ushort)2, move.Target);
        Assert.Null(move.Precopy); // for load: the node's pre-copy setting decides
        Assert.Single(_mover.Moves);
    }

    [Fact]
    public void A_locked_process_is_never_moved_however_loaded_its_node()
    {
        var loop = Loop(freeHere: 8 * GiB);
        foreach (var pid in new[] { Spin(), Spin(), Spin() })
            _registry.Update(Register(pid), p => p.Locked = true);
        for (var round = 0; round < 15; round++)
        {
            Assert.DoesNotContain(loop.Round(), d => d.From == 1);
            Thread.Sleep(200);
        }
        Assert.Empty(_mover.Moves);
    }

    [Fact]
    public void A_node_short_of_memory_ushers_its_process_to_a_node_with_room_frozen_at_once()
    {
        // This node: 1 GiB with 20 MiB free; the process holds 48 MiB and sleeps, so only memory can move it.
        var loop = Loop(freeHere: 20 << 20, totalHere: GiB);
        var (read, write) = Descriptors.CreatePipe();
        using (write)
        {
            var child = ChildProcess.Start(TestPrograms.Locate("eng_bigmem"), ["48"], stdin: read);
            read.Dispose();
            _children.Add(child);
            Poll.Until(() => Linux.Proc.ProcFs.ReadResidentBytes(child.Pid) >= 48L << 20, Patience, "eng_bigmem to fill its memory");
            var process = Register(child.Pid);

            var move = UntilAMove(loop);
            Assert.Equal((process.Pid, (ushort)2, (bool?)false), (move.Pid, move.Target, move.Precopy));
        }
    }

    private BalanceLoop Loop(long freeHere, long totalHere = 16 * GiB)
    {
        NodeRow Node(int id, long free) => new(id, $"10.0.0.{id}", NodeLiveness.Alive, 0, (long)LoadMath.ReferenceSpeed, 1,
            (long)LoadMath.ReferenceSpeed, 16 * GiB, free, 0, [], 0, id == 1);
        var view = new ClusterView(1, "10.0.0.1", "map", [Node(1, freeHere), Node(2, 8 * GiB)]);
        return new BalanceLoop(_mover, _registry, new FakeMigrationEngine(), () => 1, () => view,
            () => ((ulong)totalHere, (ulong)freeHere), new GuestDirectory(), new BalancerOptions { Cooldown = TimeSpan.Zero },
            TimeSpan.FromSeconds(1), NullLogger.Instance);
    }

    private int Spin()
    {
        var child = ChildProcess.Start(TestPrograms.Locate("spinner"), ["60", "1000000"]);
        _children.Add(child);
        return child.Pid;
    }

    private ManagedProcess Register(int pid) => _registry.Register(pid, 0, hint: OpenMosix.Balancing.Demand.JobHint.Measured);

    /// <summary>Rounds a fifth of a second apart (the first only starts measuring) until one starts a move.</summary>
    private RecordingMover.Move UntilAMove(BalanceLoop loop)
    {
        Poll.Until(() =>
        {
            loop.Round();
            if (!_mover.Moves.IsEmpty) return true;
            Thread.Sleep(200);
            return false;
        }, Patience, "the balancer to move a process");
        return _mover.Moves.First();
    }

    /// <summary>Records each move asked for and reports it done, without moving anything.</summary>
    private sealed class RecordingMover : IProcessMover
    {
        public sealed record Move(int Pid, ushort Target, bool? Precopy);

        public ConcurrentQueue<Move> Moves { get; } = new();

        public Task<MigrationResult> MigrateAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy = null)
        {
            Moves.Enqueue(new Move(process.Pid, target, precopy));
            return Task.FromResult(new MigrationResult(process.Pid, 1, target, 0, 0, 0));
        }
    }
}
