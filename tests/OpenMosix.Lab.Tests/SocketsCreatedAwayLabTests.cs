using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A 2-node lab (each node its own network namespace, so 127.0.0.1 is a different loopback on each) whose node 1
/// keeps the default forwarding.sockets_created_away = "home" and whose node 2 says "node" in its omd.toml.
/// </summary>
public sealed class SocketsCreatedAwayLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");

    public SocketsCreatedAwayLab()
    {
        try
        {
            File.AppendAllText(Lab.Layout.NodeConfigFile(2), "[forwarding]\nsockets_created_away = \"node\"\n");
            Om.Run("lab", "restart", "--name", Lab.Name, "2").Succeeded();
            Poll.Until(() => SeesAlive(2, 1) && SeesAlive(1, 2), TimeSpan.FromSeconds(60), "node 2's new omd and node 1 to see each other alive");
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    private bool SeesAlive(int from, int node)
    {
        var status = Lab.Exec(from, Om.Path, "status", "--json");
        if (status.ExitCode != 0) return false;
        using var json = System.Text.Json.JsonDocument.Parse(status.Stdout);
        return json.RootElement.GetProperty("nodes").EnumerateArray()
            .Any(n => n.GetProperty("id").GetInt32() == node && n.GetProperty("state").GetString() == "alive");
    }

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// Issue #15, point 2: the sockets a moved process creates after its move. By default (as in openMosix) its home
/// makes them, through the deputy: a server that listens only on home's loopback is reached, the socket's own
/// address is home's, and a socket it listens on after the move takes connections that arrive at home. Where home's
/// omd.toml says "node", they are the node's where it runs: home's loopback is out of reach and the node's is not.
/// </summary>
public sealed class SocketsCreatedAwayLabTests(SocketsCreatedAwayLab fixture) : IClassFixture<SocketsCreatedAwayLab>
{
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Line server on 127.0.0.1: for each of its connections, every line comes back upper-cased after the tag.</summary>
    private const string Server = """
        import socket, sys
        port, tag, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        print("listening", flush=True)
        for i in range(count):
            c, peer = s.accept()
            for line in c.makefile("rb"):
                c.sendall(tag.encode() + b": " + line.upper())
            c.close()
            print("served", i, peer[0], flush=True)
        """;

    /// <summary>Makes its sockets only once told to go (after the move): a blocking connect, a connect with a timeout
    /// (non-blocking and polled), and a listening socket a client at home connects to.</summary>
    private const string Program = """
        import socket, sys
        port = int(sys.argv[1])
        print("ready", flush=True)
        sys.stdin.readline()
        def talk(c, words):
            f = c.makefile("rb")
            for w in words:
                c.sendall(w.encode() + b"\n")
                print(f.readline().decode().strip(), flush=True)
            c.shutdown(socket.SHUT_WR)
            print("end:", f.read(), flush=True)
            c.close()
        c = socket.socket()
        try:
            c.connect(("127.0.0.1", port))
        except OSError as e:
            print("connect:", type(e).__name__, flush=True)
            sys.exit(0)
        print("own address:", c.getsockname()[0], "peer:", c.getpeername() == ("127.0.0.1", port), flush=True)
        talk(c, ["one", "two"])
        talk(socket.create_connection(("127.0.0.1", port), timeout=30), ["three"])
        l = socket.socket()
        l.bind(("127.0.0.1", 0))
        l.listen(1)
        print("listening on", l.getsockname()[1], flush=True)
        a, _ = l.accept()
        print("accepted:", a.makefile("rb").readline().decode().strip(), flush=True)
        a.sendall(b"bye\n")
        a.close()
        print("done", flush=True)
        """;

    private const string Caller = """
        import socket, sys
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        c.sendall(b"hello from home\n")
        print(c.makefile("rb").readline().decode().strip(), flush=True)
        """;

    private const string Probe = """
        import socket, sys
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
            print("reached")
        except OSError as e:
            print(type(e).__name__)
        """;

    [Fact]
    public void A_program_moved_away_makes_its_new_sockets_at_home_and_talks_to_a_server_only_home_can_reach_as_if_it_had_not_moved()
    {
        var reference = Run(home: 1, move: false);
        var moved = Run(home: 1, move: true);

        Assert.Equal(reference.Program, moved.Program);
        Assert.Equal(reference.Server, moved.Server);
        Assert.Equal(
        [
            "ready", "own address: 127.0.0.1 peer: True", "home1: ONE", "home1: TWO", "end: b''", "home1: THREE", "end: b''",
            "listening", "accepted: hello from home", "done",
        ], moved.Program);
        Assert.Equal(["listening", "served 0 127.0.0.1", "served 1 127.0.0.1"], moved.Server);
        Assert.Equal("bye", moved.Caller);
    }

    [Fact]
    public void A_program_whose_home_says_node_makes_its_new_sockets_where_it_runs_and_cannot_reach_homes_loopback()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var node1 = _lab.InNode(1, ["python3", "-c", Server, $"{port + 1}", "node1", "2"]);
        node1.WaitForLines(1);
        using var home = _lab.InNode(2, ["python3", "-c", Server, $"{port}", "home2", "1"]);
        home.WaitForLines(1);
        const string Choose = """
            import socket, sys
            print("ready", flush=True)
            sys.stdin.readline()
            for p in sys.argv[1:]:
                try:
                    c = socket.create_connection(("127.0.0.1", int(p)), timeout=10)
                    c.sendall(b"hi\n")
                    print(c.makefile("rb").readline().decode().strip(), flush=True)
                    c.close()
                except OSError as e:
                    print(type(e).__name__, flush=True)
            """;
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        ManagedRun run;
        using (stdinRead) run = _lab.Managed(2, ["python3", "-c", Choose, $"{port}", $"{port + 1}"], stdinRead);
        using (run)
        using (var stdin = new FileStream(stdinWrite, FileAccess.Write))
        {
            run.WaitForLines(1);
            _lab.Migrate(2, run.Pid, "1");
            Assert.Equal("1", _lab.Exec(2, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
            stdin.Write("go\n"u8);
            stdin.Flush();
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(["ready", "ConnectionRefusedError", "node1: HI"], run.Lines());
        }
    }

    private sealed record Outcome(IReadOnlyList<string> Program, IReadOnlyList<string> Server, string Caller);

    private Outcome Run(int home, bool move)
    {
        var port = Random.Shared.Next(20000, 40000);
        var away = home == 1 ? 2 : 1;
        using var server = _lab.InNode(home, ["python3", "-c", Server, $"{port}", $"home{home}", "2"]);
        server.WaitForLines(1);
        Assert.Equal("ConnectionRefusedError", _lab.Exec(away, "python3", "-c", Probe, $"{port}").Succeeded().Stdout.Trim());

        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        ManagedRun run;
        using (stdinRead) run = _lab.Managed(home, ["python3", "-c", Program, $"{port}"], stdinRead);
        using (run)
        using (var stdin = new FileStream(stdinWrite, FileAccess.Write))
        {
            run.WaitForLines(1);
            if (move)
            {
                _lab.Migrate(home, run.Pid, $"{away}");
                Assert.Equal($"{away}", _lab.Exec(home, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
            }
            stdin.Write("go\n"u8);
            stdin.Flush();
            // The program says on which port it listens (home's, for a moved one): a caller at home connects there.
            run.WaitForLines(8, TimeSpan.FromSeconds(60));
            var listening = run.Lines()[7];
            Assert.StartsWith("listening on ", listening);
            using var caller = _lab.InNode(home, ["python3", "-c", Caller, listening["listening on ".Length..]]);
            Assert.Equal(new ChildExit(0, 0), caller.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(30)));
            var lines = run.Lines().ToList();
            lines[7] = "listening"; // the port is the kernel's choice
            return new Outcome(lines, server.Lines(), caller.Lines().Single());
        }
    }
}
