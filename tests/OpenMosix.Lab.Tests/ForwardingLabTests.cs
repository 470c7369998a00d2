using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15: descriptors that cannot travel stay at home and are served from there. A python3 program started with
/// om run in node 1 writes to an inherited pipe on fd 7 (read at home) and talks over a TCP connection to a server in
/// node 1; moved to node 2 in the middle, it goes on with both, and pipe, conversation and output are those of a run
/// that did not move.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ForwardingLabTests(MigrationLab fixture)
{
    private const int Rounds = 40;
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>A line echo server ("echo: " and the line upper-cased) for one connection; also ForwardingReadinessLabTests'.</summary>
    internal const string Server = """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        f = c.makefile("rb")
        for line in f:
            print("got", line.decode().strip(), flush=True)
            c.sendall(b"echo: " + line.upper())
        print("closed", flush=True)
        """;

    private const string Client = """
        import os, socket, sys, time
        port, rounds = int(sys.argv[1]), int(sys.argv[2])
        c = socket.create_connection(("127.0.0.1", port))
        print("connected", flush=True)
        pending = b""
        for i in range(rounds):
            os.write(7, b"pipe %d\n" % i)
            c.sendall(b"msg %d\n" % i)
            while b"\n" not in pending:
                chunk = c.recv(4096)
                if not chunk: sys.exit("server closed early")
                pending += chunk
            line, pending = pending.split(b"\n", 1)
            print(line.decode(), flush=True)
            time.sleep(0.1)
        c.shutdown(socket.SHUT_WR)
        os.close(7)
        print("done", c.recv(10), flush=True)
        """;

    [Fact]
    public void A_program_moved_while_it_holds_a_pipe_on_fd_7_and_a_tcp_connection_goes_on_with_both_as_if_it_had_not_moved()
    {
        var reference = Converse(move: false);
        var moved = Converse(move: true);
        Assert.Equal(reference.Output, moved.Output);
        Assert.Equal(reference.Pipe, moved.Pipe);
        Assert.Equal(reference.Server, moved.Server);
        Assert.Equal(Rounds + 2, moved.Output.Count);
        Assert.Equal(string.Concat(Enumerable.Range(0, Rounds).Select(i => $"pipe {i}\n")), moved.Pipe);
    }

    private const string Listener = """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(4)
        print("listening", flush=True)
        for i in range(3):
            c, _ = s.accept()
            line = c.makefile("rb").readline()
            c.sendall(b"%d: " % i + line.upper())
            c.close()
            print("served", i, line.decode().strip(), flush=True)
        """;

    private const string Caller = """
        import socket, sys
        for i in range(3):
            c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            c.sendall(b"call %d\n" % i)
            print(c.makefile("rb").readline().decode().strip(), flush=True)
        """;

    [Fact]
    public void A_listening_socket_moved_away_keeps_accepting_connections_that_arrive_at_home()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.Managed(1, "python3", "-c", Listener, $"{port}");
        server.WaitForLines(1);
        _lab.Migrate(1, server.Pid, "2");
        using var caller = _lab.InNode(1, ["python3", "-c", Caller, $"{port}"]);
        Assert.Equal(new ChildExit(0, 0), caller.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(["0: CALL 0", "1: CALL 1", "2: CALL 2"], caller.Lines());
        Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(["listening", "served 0 call 0", "served 1 call 1", "served 2 call 2"], server.Lines());
    }

    [Fact]
    public void A_program_brought_home_in_the_middle_of_its_conversation_goes_on_with_its_own_descriptors()
    {
        var reference = Converse(move: false);
        var returned = Converse(move: true, comeHome: true);
        Assert.Equal(reference.Output, returned.Output);
        Assert.Equal(reference.Pipe, returned.Pipe);
        Assert.Equal(reference.Server, returned.Server);
    }

    private sealed record Conversation(IReadOnlyList<string> Output, string Pipe, IReadOnlyList<string> Server);

    private Conversation Converse(bool move, bool comeHome = false)
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", Server, $"{port}"]);
        server.WaitForLines(1);

        var (pipeRead, pipeWrite) = Descriptors.CreatePipe();
        var pipe = new MemoryStream();
        var reader = new Thread(() =>
        {
            using var stream = new FileStream(pipeRead, FileAccess.Read);
            stream.CopyTo(pipe);
        }) { IsBackground = true };
        reader.Start();
        using (var client = ForwardingBulkLabTests.StartWithFd7(_lab, ["python3", "-c", Client, $"{port}", $"{Rounds}"], pipeWrite))
        {
            client.WaitForLines(6);
            if (move)
            {
                _lab.Migrate(1, client.Pid, "2");
                Assert.Equal("2", _lab.Exec(1, Om.Path, "where", $"{client.Pid}").Succeeded().Stdout.Trim());
            }
            if (comeHome)
            {
                client.WaitForLines(16);
                _lab.Migrate(1, client.Pid, "home");
                Assert.Equal("home", _lab.Processes(1).Processes.Single(p => p.Pid == client.Pid).State);
            }
            Assert.Equal(new ChildExit(0, 0), client.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.True(reader.Join(TimeSpan.FromSeconds(20)), "the pipe on fd 7 reaches end of file once the program closed it");
            Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(20)));
            return new Conversation(client.Lines(), System.Text.Encoding.ASCII.GetString(pipe.ToArray()), server.Lines());
        }
    }
}
