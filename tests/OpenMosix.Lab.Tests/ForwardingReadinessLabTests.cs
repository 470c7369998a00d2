using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15: readiness of forwarded descriptors. A program moved away polls its TCP connection to a server at home
/// mixed with local descriptors (poll, select, pselect, epoll level- and edge-triggered, with timeouts and a signal),
/// duplicates it and asks ioctls of it; a python3 asyncio client (epoll underneath) goes on with its conversation.
/// Each gives what it gives when it did not move.
/// </summary>
[Collection(MigrationLab.Collection)]
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

    private const string LineServer = """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        for line in c.makefile("rb"):
            c.sendall(b"echo: " + line.upper())
        print("closed", flush=True)
        """;

    // asyncio's default loop waits in epoll; a local pipe is watched in the same loop as the connection.
    private const string AsyncClient = """
        import asyncio, os, sys
        async def main(port, rounds):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            loop = asyncio.get_running_loop()
            r, w = os.pipe()
            os.set_blocking(r, False)
            print("connected", flush=True)
            for i in range(rounds):
                local = loop.create_future()
                loop.add_reader(r, lambda: local.set_result(os.read(r, 100)) if not local.done() else None)
                loop.call_later(0.05, os.write, w, b"tick %d" % i)
                writer.write(b"msg %d\n" % i)
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 10)
                got = await asyncio.wait_for(local, 10)
                loop.remove_reader(r)
                print(line.decode().strip(), got.decode(), flush=True)
                await asyncio.sleep(0.1)
            writer.write_eof()
            print("eof", await reader.read(), flush=True)
            writer.close()
        asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
        """;

    [Fact]
    public void An_asyncio_client_moved_mid_conversation_goes_on_as_if_it_had_not_moved()
    {
        var reference = AsyncConversation(move: false);
        var moved = AsyncConversation(move: true);
        Assert.Equal(reference, moved);
        Assert.Equal(30 + 2, moved.Count);
        Assert.Equal("echo: MSG 29 tick 29", moved[^2]);
    }

    private IReadOnlyList<string> AsyncConversation(bool move)
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", LineServer, $"{port}"]);
        server.WaitForLines(1);
        using var client = _lab.Managed(1, "python3", "-c", AsyncClient, $"{port}", "30");
        client.WaitForLines(6);
        if (move) _lab.Migrate(1, client.Pid, "2");
        Assert.Equal(new ChildExit(0, 0), client.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        return client.Lines();
    }
}
