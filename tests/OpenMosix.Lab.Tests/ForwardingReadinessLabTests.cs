using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15: readiness of forwarded descriptors. A program moved away polls its TCP connection to a server at home
/// mixed with local descriptors (poll, select, pselect, epoll level- and edge-triggered, with timeouts and a signal),
/// duplicates it and asks ioctls of it; a python3 event loop on epoll (selectors) goes on with its conversation.
/// Each gives what it gives when it did not move.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ForwardingReadinessLabTests(MigrationLab fixture, ITestOutputHelper output)
{
    private readonly TestLab _lab = fixture.Lab;

    private const string EchoServer = """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        sys.stdin.readline()
        c.sendall(b"go\n")
        while True:
            data = c.recv(65536)
            if not data: break
            c.sendall(data.upper())
        c.close()
        print("closed", flush=True)
        """;

    [Fact]
    public void A_program_moved_while_it_waits_in_poll_sees_its_connection_and_local_descriptors_as_at_home()
    {
        var reference = PollProgram(move: false);
        var moved = PollProgram(move: true);
        output.WriteLine($"round trip waited for with poll: {reference.Latency} µs at home, {moved.Latency} µs moved");
        Assert.Equal(reference.Lines, moved.Lines);
        Assert.Equal(["connected", "go", "drained ok", "timeout ok", "eintr ok", "local ok", "select ok", "epoll ok", "pollout ok",
            "dup ok", "ioctl ok", "eof ok"], moved.Lines);
    }

    private (IReadOnlyList<string> Lines, string Latency) PollProgram(bool move)
    {
        var port = Random.Shared.Next(20000, 40000);
        var (goRead, goWrite) = Descriptors.CreatePipe();
        using var server = _lab.InNode(1, ["python3", "-c", EchoServer, $"{port}"], goRead);
        goRead.Dispose();
        server.WaitForLines(1);
        using var program = _lab.Managed(1, TestPrograms.Locate("fwdpoll"), $"{port}");
        program.WaitForLines(1);
        if (move)
        {
            _lab.Migrate(1, program.Pid, "2");
            Assert.Equal("2", _lab.Exec(1, Om.Path, "where", $"{program.Pid}").Succeeded().Stdout.Trim());
        }
        using (var go = new FileStream(goWrite, FileAccess.Write)) go.Write("go\n"u8);
        Assert.Equal(new ChildExit(0, 0), program.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        var lines = program.Lines();
        var latency = lines.FirstOrDefault(l => l.StartsWith("latency ", StringComparison.Ordinal))?["latency ".Length..] ?? "none";
        return ([.. lines.Where(l => !l.StartsWith("latency ", StringComparison.Ordinal))], latency);
    }

    // An event loop on selectors' default selector (epoll): the connection (non-blocking) and a local pipe in one
    // loop. (asyncio itself cannot be moved in a lab: it caches its PID, and the copy's differs from home's there.)
    private const string SelectorsClient = """
        import os, selectors, socket, sys
        sys.stderr = sys.stdout
        port, rounds = int(sys.argv[1]), int(sys.argv[2])
        sel = selectors.DefaultSelector()
        c = socket.create_connection(("127.0.0.1", port))
        c.setblocking(False)
        r, w = os.pipe()
        os.set_blocking(r, False)
        sel.register(c, selectors.EVENT_READ, "socket")
        sel.register(r, selectors.EVENT_READ, "pipe")
        print("connected", type(sel).__name__, flush=True)
        pending = b""
        for i in range(rounds):
            c.send(b"msg %d\n" % i)
            os.write(w, b"tick %d" % i)
            line = tick = None
            while line is None or tick is None:
                events = sel.select(10)
                if not events: sys.exit("nothing ready in 10 s")
                for key, _ in events:
                    if key.data == "pipe":
                        tick = os.read(r, 100).decode()
                        continue
                    try:
                        chunk = c.recv(4096)
                    except BlockingIOError:
                        print("spurious readiness", flush=True)
                        continue
                    if not chunk: sys.exit("server closed early")
                    pending += chunk
                    if b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
            print(line.decode(), tick, flush=True)
            sel.select(0.1)
        c.shutdown(socket.SHUT_WR)
        sel.select(10)
        print("eof", c.recv(10), flush=True)
        """;

    [Fact]
    public void An_epoll_event_loop_moved_mid_conversation_goes_on_as_if_it_had_not_moved()
    {
        var reference = LoopConversation(move: false);
        var moved = LoopConversation(move: true);
        Assert.Equal(reference, moved);
        Assert.Equal(30 + 2, moved.Count);
        Assert.Equal("echo: MSG 29 tick 29", moved[^2]);
        Assert.Equal("connected EpollSelector", moved[0]);
    }

    private IReadOnlyList<string> LoopConversation(bool move)
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", ForwardingLabTests.Server, $"{port}"]);
        server.WaitForLines(1);
        using var client = _lab.Managed(1, "python3", "-c", SelectorsClient, $"{port}", "30");
        client.WaitForLines(6);
        if (move) _lab.Migrate(1, client.Pid, "2");
        var exit = client.Process.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit == new ChildExit(0, 0), $"the client {exit}: {string.Join("\n", client.Lines())}");
        Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        return client.Lines();
    }
}
