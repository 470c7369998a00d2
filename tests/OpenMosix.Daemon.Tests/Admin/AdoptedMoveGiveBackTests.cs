using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Admin;
using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.Daemon.Tests.Migration;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Admin;

/// <summary>
/// `om migrate PID` of a process omd did not manage adopts it for the move; when the move does not happen it is given
/// back as it was, whatever stopped it: a refusal, or a failure of another kind (a /proc read or a syscall racing the
/// process, a cancellation, a bug, the target's link). The real route, HomeMigration and registry, a real (idle)
/// child; the engine is the fake one, told how its cantmove analysis fails; the test speaks for node 2.
/// </summary>
public sealed class AdoptedMoveGiveBackTests : IDisposable
{
    private static readonly PeerCredentials Root = new(1, 0, 0);
    private readonly Socket _listener = LinkPairs.Listen();
    private readonly FakeMigrationEngine _engine = new();
    private readonly ProcessRegistry _registry = new(1);
    private readonly ChildProcess _child = ChildProcess.Start("/bin/sleep", ["60"]);
    private readonly AdminRoutes _routes;

    public AdoptedMoveGiveBackTests()
    {
        Poll.Until(() => ProcFs.ReadCommandLine(_child.Pid).Count > 0, TimeSpan.FromSeconds(10), "sleep to run");
        var home = new HomeMigration(_engine, _engine, _registry, () => 1, node => node == 2 ? LinkPairs.Endpoint(_listener) : null,
            () => new ClusterView(1, "127.0.0.1", "test", [Node(1), Node(2)]), LinkPairs.Security(1), NullLogger.Instance) { Precopy = false, AllowRoot = true };
        // Only the registry and the migration are used by the migrate route.
        _routes = new AdminRoutes(null!, null!, DateTimeOffset.UtcNow, _registry, home);
    }

    public void Dispose()
    {
        _child.Dispose();
        _listener.Dispose();
    }

    private static NodeRow Node(int id) => new(id, $"127.0.0.{id}", NodeLiveness.Alive, 0, 1000, 1, 1000, 1L << 30, 1L << 30, 0, [], 0, id == 1);

    private HttpResponse Migrate(string target = "2") => _routes.Handle(new HttpRequest("POST", $"/v1/procs/{_child.Pid}/migrate",
        JsonSerializer.SerializeToUtf8Bytes(new MigrateRequest(target), AdminJsonContext.Default.MigrateRequest)), Root);

    private static string ErrorOf(HttpResponse response) => JsonSerializer.Deserialize(response.Body, AdminJsonContext.Default.ErrorReply)!.Error;

    public static TheoryData<string> FailureKinds => ["io", "syscall", "process", "cancelled", "bug"];

    private static Exception Failure(string kind, int pid) => kind switch
    {
        "io" => new IOException($"/proc/{pid}/maps: read failed"),
        "syscall" => new SyscallException("kcmp(KCMP_VM/KCMP_FILES)", Errno.EPERM, $"pids {pid} and {pid + 1}"),
        "process" => new ProcessAccessException(pid + 1, "no such process"),
        "cancelled" => new OperationCanceledException("the check was cancelled"),
        _ => new InvalidOperationException("a bug in the check"),
    };

    [Theory]
    [MemberData(nameof(FailureKinds))]
    public void A_process_adopted_to_be_moved_is_given_back_whatever_kind_of_failure_stops_the_move(string kind)
    {
        var failure = Failure(kind, _child.Pid);
        _engine.AnalyzeFails = _ => failure;

        // Not a refusal the route words itself: the admin server answers it in one line (and logs it).
        var thrown = Record.Exception(() => Migrate());

        Assert.Same(failure, thrown);
        Assert.Null(_registry.Find(_child.Pid));
        Assert.DoesNotContain(_registry.List().Processes, p => p.Pid == _child.Pid);
    }

    [Theory]
    [InlineData("io")]
    [InlineData("cancelled")]
    public async Task Omd_answers_a_failure_of_the_move_in_one_line_even_one_that_looks_like_the_clients_stream_failing(string kind)
    {
        var failure = Failure(kind, _child.Pid);
        _engine.AnalyzeFails = _ => failure;
        var path = Path.Combine(Path.GetTempPath(), $"om-giveback-{Guid.NewGuid():N}.sock");
        using var server = new AdminServer(path, _routes, NullLogger.Instance);
        server.Bind();
        using var stop = new CancellationTokenSource();
        var serving = server.RunAsync(stop.Token);
        try
        {
            using var omd = new AdminClient(path, TimeSpan.FromSeconds(60));
            var error = await Assert.ThrowsAsync<AdminException>(() => omd.MigrateAsync(_child.Pid, "2", cancel: TestContext.Current.CancellationToken));

            Assert.Equal((500, $"omd failed: {failure.GetType().Name}: {failure.Message}"), (error.StatusCode, error.Message));
            Assert.Null(_registry.Find(_child.Pid));
        }
        finally
        {
            await stop.CancelAsync();
            await serving;
        }
    }

    [Fact]
    public void A_process_adopted_to_be_moved_that_cannot_move_is_refused_in_one_line_and_given_back()
    {
        _engine.CantMove = ["has 1 POSIX timer (timer_create)"];

        var response = Migrate();

        Assert.Equal((409, $"process {_child.Pid} cannot move: has 1 POSIX timer (timer_create)"), (response.Status, ErrorOf(response)));
        Assert.Null(_registry.Find(_child.Pid));
    }

    [Fact]
    public void A_process_adopted_for_a_target_that_makes_no_sense_is_given_back()
    {
        var response = Migrate("nowhere");

        Assert.Equal((400, "'nowhere' is not a node id, home or balance"), (response.Status, ErrorOf(response)));
        Assert.Null(_registry.Find(_child.Pid));
    }

    [Fact]
    public async Task A_process_adopted_for_a_target_that_closes_the_link_after_the_offer_is_refused_with_the_node_and_given_back()
    {
        var move = Task.Run(() => Migrate());
        await using (var target = await LinkPairs.AcceptAsync(_listener, 2))
            await MessageWire.ReceiveAsync<Offer>(target, TimeSpan.FromSeconds(20));

        var response = await move;

        Assert.Equal(409, response.Status);
        Assert.StartsWith("node 2: node 2 closed the link (waiting for", ErrorOf(response), StringComparison.Ordinal);
        Assert.Null(_registry.Find(_child.Pid));
        Assert.Empty(_engine.Calls);
    }

    [Fact]
    public void A_process_managed_before_its_move_failed_stays_managed()
    {
        var managed = _registry.Register(_child.Pid, 0);
        _engine.AnalyzeFails = pid => new IOException($"/proc/{pid}/maps: read failed");

        Assert.IsType<IOException>(Record.Exception(() => Migrate()));

        Assert.Same(managed, _registry.Find(_child.Pid));
        Assert.Equal(ProcessState.Home, managed.State);
    }
}
