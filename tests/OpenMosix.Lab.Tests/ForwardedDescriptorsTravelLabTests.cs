using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A 3-node lab (each node its own network namespace) with the default sockets_created_away = "home", whose node 1
/// has a file only it sees (a tmpfs mounted in its own mount namespace over an empty directory of the host), in no
/// home path.
/// </summary>
public sealed class ThreeNodeForwardingLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");

    /// <summary>Lines only node 1 can read.</summary>
    internal string OnlyHomeHas { get; }

    private readonly string _directory;

    public ThreeNodeForwardingLab()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"omonly-{Lab.Name}");
        OnlyHomeHas = Path.Combine(_directory, "lines.txt");
        Directory.CreateDirectory(_directory);
        try
        {
            Lab.Exec(1, "mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", _directory).Succeeded();
            Lab.Exec(1, "sh", "-c", $"seq 1 2000 | sed 's/^/line /' > {OnlyHomeHas}").Succeeded();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Lab.Dispose();
        try
        {
            Directory.Delete(_directory);
        }
        catch (IOException)
        {
            // still a mount point somewhere: left for the host's /tmp cleaning
        }
    }
}

/// <summary>
/// Issue #15: descriptors a moved process got while away (a connection it made, which its home made for it; a
/// socket it listens on there; a connection it accepted; a duplicate) are held at home by its deputy under the numbers
/// the process knows, so the process can come home with them, or move on to a third node, which forwards them to home
/// as its first node did. Each conversation goes on with no byte lost or doubled, bytes read ahead for it included.
/// A regular file held open that the target lacks (outside the home paths) stays at home too, forwarded.
/// </summary>
public sealed class ForwardedDescriptorsTravelLabTests(ThreeNodeForwardingLab fixture) : IClassFixture<ThreeNodeForwardingLab>
{
    private readonly TestLab _lab = fixture.Lab;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>Line server on home's loopback, one connection: each line comes back upper-cased after the tag, and
    /// "burst N" gets N numbered lines in one send (more than the client reads before it travels).</summary>
    private const string Server = """
        import socket, sys
        port, tag = int(sys.argv[1]), sys.argv[2]
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)
        print("listening", flush=True)
        c, peer = s.accept()
        for line in c.makefile("rb"):
            if line.startswith(b"burst "):
                c.sendall(b"".join(b"%s: burst %d\n" % (tag.encode(), i + 1) for i in range(int(line.split()[1]))))
            else:
                c.sendall(tag.encode() + b": " + line.upper())
        c.close()
        print("served", peer[0], flush=True)
        """;

    /// <summary>Makes its sockets after its first move (told by a line on stdin), reads 2 of 5 lines of a burst a byte
    /// at a time (the rest stays read ahead for it), accepts a connection from home and keeps only a duplicate of it;
    /// then, after the second line on stdin (it travelled meanwhile), goes on with all of them.</summary>
    private const string Program = """
        import socket, sys
        port = int(sys.argv[1])
        def step():
            print("ready", flush=True)
            sys.stdin.readline()
        def line(s):
            b = b""
            while not b.endswith(b"\n"):
                r = s.recv(1)
                if not r:
                    break
                b += r
            return b.decode().strip()
        step()
        c = socket.socket()
        c.connect(("127.0.0.1", port))
        print("own address:", c.getsockname()[0], flush=True)
        c.sendall(b"one\n")
        print(line(c), flush=True)
        c.sendall(b"burst 5\n")
        print(line(c), "|", line(c), flush=True)
        l = socket.socket()
        l.bind(("127.0.0.1", 0))
        l.listen(1)
        print("listening on", l.getsockname()[1], flush=True)
        a, _ = l.accept()
        print("accepted:", line(a), flush=True)
        kept = a.dup()
        a.close()
        step()
        print(line(c), "|", line(c), "|", line(c), flush=True)
        c.sendall(b"two\n")
        print(line(c), flush=True)
        c.shutdown(socket.SHUT_WR)
        print("end:", c.recv(100), flush=True)
        c.close()
        kept.sendall(b"bye\n")
        kept.close()
        l.close()
        print("done", flush=True)
        """;

    private const string Caller = """
        import socket, sys
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
        c.sendall(b"hello from home\n")
        print(c.makefile("rb").readline().decode().strip(), flush=True)
        """;

    private static readonly string[] Expected =
    [
        "ready", "own address: 127.0.0.1", "home1: ONE", "home1: burst 1 | home1: burst 2", "listening on",
        "accepted: hello from home", "ready", "home1: burst 3 | home1: burst 4 | home1: burst 5", "home1: TWO", "end: b''", "done",
    ];

    [Fact]
    public void A_python_client_that_made_its_connections_away_comes_home_with_them_and_its_conversations_are_as_if_it_had_never_moved()
    {
        var reference = Run(away: null, then: null);
        var moved = Run(away: "2", then: "home");

        Assert.Equal(Expected, reference.Program);
        Assert.Equal(reference, moved);
        // Every descriptor it got away was kept by the deputy (the process would find any other closed at home).
        var homeLog = File.ReadAllText(_lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain("could not be given to its deputy", homeLog, StringComparison.Ordinal);
        Assert.DoesNotContain("its deputy could not keep", homeLog, StringComparison.Ordinal);
    }

    [Fact]
    public void A_python_client_that_made_its_connections_away_moves_on_to_a_third_node_with_them_and_its_conversations_are_as_if_it_had_never_moved()
    {
        var reference = Run(away: null, then: null);
        var moved = Run(away: "2", then: "3");

        Assert.Equal(Expected, reference.Program);
        Assert.Equal(reference, moved);
    }

    /// <summary>At home: a descriptor limit of 80 (the reserved range for numbers got away is 67-79), a connection,
    /// and /dev/null open on every number up to 65 (66 left for its restore). Away (after the first step): closes
    /// those (its node's own), and puts the connection under each reserved number with dup2, 79 down to 67, so that
    /// the deputy, which still holds its files, has no number left below its limit for the passing of the last one
    /// (a socket pair and the number received); talks on fd 67, and again after the second step (it came home).</summary>
    private const string HighNumber = """
        import os, resource, socket, sys
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (80, hard))
        def step():
            print("ready", flush=True)
            sys.stdin.readline()
        def talk(s, what):
            s.sendall(what)
            b = b""
            while not b.endswith(b"\n"):
                r = s.recv(1)
                if not r:
                    break
                b += r
            print(b.decode().strip(), flush=True)
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        held = []
        while not held or held[-1] < 65:
            held.append(os.open("/dev/null", os.O_RDONLY))
        step()
        for fd in held:
            os.close(fd)
        for n in range(79, 66, -1):
            os.dup2(c.fileno(), n)
        k = socket.socket(fileno=67)
        talk(k, b"one\n")
        step()
        talk(k, b"two\n")
        print("done", flush=True)
        """;

    [Fact]
    public void A_connection_duplicated_away_onto_numbers_the_deputy_has_no_room_below_its_limit_for_comes_home_open_under_each()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", Server, $"{port}", "home1"]);
        server.WaitForLines(1, Patience);
        var (run, stdin) = ManagedWithStdin(["python3", "-c", HighNumber, $"{port}"]);
        using (run)
        using (stdin)
        {
            run.WaitForLines(1, Patience);
            MoveTo(run, "2");
            Go(stdin);
            run.WaitForLines(3, Patience);
            MoveTo(run, "home");
            Go(stdin);
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
            Assert.Equal(["ready", "home1: ONE", "ready", "home1: TWO", "done"], run.Lines());
            Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(Patience));
            Assert.DoesNotContain($"Process {run.Pid}: its deputy could not keep", File.ReadAllText(_lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        }
    }

    /// <summary>A descriptor limit of 80 (the reserved range 67-79) and /dev/null open on every number up to 66, so
    /// that a restore finds no number free below the reserved range (the forwarding filter's listener gets one in it).
    /// Away: reads the last, and opens /dev/null once more (a reserved number, its node's own); home again: the same.</summary>
    private const string Crowded = """
        import os, resource, sys
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (80, hard))
        held = []
        while not held or held[-1] < 66:
            held.append(os.open("/dev/null", os.O_RDONLY))
        def step(what):
            n = os.open("/dev/null", os.O_RDONLY)
            print(what, held[-1], os.read(held[-1], 1), n >= 67, os.read(n, 1), flush=True)
            os.close(n)
            sys.stdin.readline()
        step("home")
        step("away")
        step("back")
        print("done", flush=True)
        """;

    [Fact]
    public void A_process_with_every_number_below_the_reserved_range_taken_moves_and_comes_home_and_runs_on()
    {
        var (run, stdin) = ManagedWithStdin(["python3", "-c", Crowded]);
        using (run)
        using (stdin)
        {
            run.WaitForLines(1, Patience);
            MoveTo(run, "2");
            Go(stdin);
            run.WaitForLines(2, Patience);
            MoveTo(run, "home");
            Go(stdin);
            run.WaitForLines(3, Patience);
            Go(stdin);
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
            Assert.Equal(["home 66 b'' True b''", "away 66 b'' True b''", "back 66 b'' True b''", "done"], run.Lines());
        }
    }

    /// <summary>Reads a file a line at a time, between the steps stdin gives it: what it read before each step and
    /// after the last, and what it got by a pread and an fstat of the same descriptor at the end.</summary>
    private const string Reader = """
        import os, sys
        f = open(sys.argv[1], "rb", buffering=0)
        def lines(n):
            got = []
            for _ in range(n):
                b = b""
                while not b.endswith(b"\n"):
                    b += f.read(1)
                got.append(b.decode().strip())
            return got[0] + " .. " + got[-1]
        print("ready", lines(3), flush=True)
        sys.stdin.readline()
        print("ready", lines(500), flush=True)
        sys.stdin.readline()
        rest = f.read()
        print("rest", len(rest), rest.splitlines()[-1].decode(), flush=True)
        print("pread", os.pread(f.fileno(), 7, 0).decode().strip(), "size", os.fstat(f.fileno()).st_size, flush=True)
        """;

    [Fact]
    public void A_file_only_home_has_held_open_outside_the_home_paths_stays_at_home_and_reads_the_same_away_and_back_home()
    {
        var path = fixture.OnlyHomeHas;
        Assert.NotEqual(0, _lab.Exec(2, "test", "-e", path).ExitCode);
        var reference = ReadAcross(path, []);
        var moved = ReadAcross(path, ["2", "home"]);
        var onward = ReadAcross(path, ["2", "3"]);

        Assert.Equal(["ready line 1 .. line 3", "ready line 4 .. line 503", "rest 14474 line 2000", "pread line 1 size 18893"], reference);
        Assert.Equal(reference, moved);
        Assert.Equal(reference, onward);
        Assert.Contains("which stay at home", File.ReadAllText(_lab.Layout.NodeDaemonLog(2)), StringComparison.Ordinal);
    }

    /// <summary>The reader on node 1, moved to each of <paramref name="moves"/> in turn between its steps.</summary>
    private List<string> ReadAcross(string path, string[] moves)
    {
        var (run, stdin) = ManagedWithStdin(["python3", "-c", Reader, path]);
        using (run)
        using (stdin)
        {
            for (var step = 0; step < 2; step++)
            {
                run.WaitForLines(step + 1, Patience);
                if (step < moves.Length) MoveTo(run, moves[step]);
                Go(stdin);
            }
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
            return [.. run.Lines()];
        }
    }

    private sealed record Outcome(IReadOnlyList<string> Program, string Server, string Caller)
    {
        public bool Equals(Outcome? other) => other is not null && Program.SequenceEqual(other.Program) && Server == other.Server && Caller == other.Caller;

        public override int GetHashCode() => HashCode.Combine(Program.Count, Server, Caller);

        public override string ToString() => $"program [{string.Join(" / ", Program)}], server [{Server}], caller [{Caller}]";
    }

    /// <summary>One conversation on node 1, moved to <paramref name="away"/> before it connects and to
    /// <paramref name="then"/> (home, or a third node) while bytes are read ahead for it; neither: it stays home.</summary>
    private Outcome Run(string? away, string? then)
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", Server, $"{port}", "home1"]);
        server.WaitForLines(1, Patience);
        var (run, stdin) = ManagedWithStdin(["python3", "-c", Program, $"{port}"]);
        using (run)
        using (stdin)
        {
            run.WaitForLines(1, Patience);
            if (away is not null) MoveTo(run, away);
            Go(stdin);
            run.WaitForLines(5, Patience);
            var listening = run.Lines()[4];
            Assert.StartsWith("listening on ", listening);
            using var caller = _lab.InNode(1, ["python3", "-c", Caller, listening["listening on ".Length..]]);
            // "ready" again: it accepted, read the caller's line and holds only the duplicate.
            run.WaitForLines(7, Patience);
            if (then is not null) MoveTo(run, then);
            Go(stdin);
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
            Assert.Equal(new ChildExit(0, 0), caller.Process.WaitForExit(Patience));
            Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(Patience));
            var lines = run.Lines().ToList();
            lines[4] = "listening on"; // the port is the kernel's choice
            return new Outcome(lines, string.Join(" / ", server.Lines()), string.Join(" / ", caller.Lines()));
        }
    }

    /// <summary>Starts <paramref name="command"/> with `om run` in node 1, its stdin a pipe whose write end the test
    /// keeps (each line written lets the program take its next step).</summary>
    private (ManagedRun Run, FileStream Stdin) ManagedWithStdin(string[] command)
    {
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        using (stdinRead) return (_lab.Managed(1, command, stdinRead), new FileStream(stdinWrite, FileAccess.Write));
    }

    /// <summary>Moves the process and checks it is where it was sent: home's listing for a trip home, `om where`
    /// otherwise.</summary>
    private void MoveTo(ManagedRun run, string node)
    {
        _lab.Migrate(1, run.Pid, node);
        if (node == "home") Assert.Equal("home", _lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        else Assert.Equal(node, _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
    }

    private static void Go(FileStream stdin)
    {
        stdin.Write("go\n"u8);
        stdin.Flush();
    }
}
