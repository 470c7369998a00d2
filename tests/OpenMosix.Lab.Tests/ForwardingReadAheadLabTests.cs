using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15 point 5: reads of a forwarded stream socket are read ahead (docs/forwarding.md). A moved program that
/// stops reading while the copy's node holds bytes read ahead for it, and is brought home then, reads those bytes at
/// home from its own socket: every byte once, in order, then end of file. Likewise from a pipe only it reads, which
/// home reads ahead by copying its head (tee): the bytes its node held are still in home's pipe.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ForwardingReadAheadLabTests(MigrationLab fixture)
{
    private const int Total = 48 << 20, Away = 16 << 20;
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Sends argv[2] bytes of a numbered stream to its one connection, then closes it; prints what it sent.</summary>
    private const string Source = """
        import hashlib, random, socket, sys
        s = socket.create_server(("127.0.0.1", int(sys.argv[1])))
        print("listening", flush=True)
        c, _ = s.accept()
        rng, h, left = random.Random(15), hashlib.sha256(), int(sys.argv[2])
        while left > 0:
            b = rng.randbytes(min(left, 3 * 65536 + 7))
            c.sendall(b); h.update(b); left -= len(b)
        c.close()
        print("sent", int(sys.argv[2]), h.hexdigest(), flush=True)
        """;

    /// <summary>Reads 1 MiB at home, then (moved, on SIGUSR1) argv[2] bytes in reads of many sizes, then (on the next
    /// SIGUSR1) the rest to end of file; prints what it got. argv[1]: the port of a server on home's loopback to
    /// connect to, or "fd7" to read the pipe on its fd 7.</summary>
    private const string Reader = """
        import hashlib, os, signal, socket, sys
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        if sys.argv[1] == "fd7":
            read = lambda n: os.read(7, n)
        else:
            read = socket.create_connection(("127.0.0.1", int(sys.argv[1]))).recv
        h, got = hashlib.sha256(), 0
        def take(count):
            global got
            sizes, i = [1, 4095, 65536, 1 << 20, 777, (1 << 20) + 1, 3 << 20], 0
            while count is None or got < count:
                b = read(sizes[i % len(sizes)] if count is None else min(sizes[i % len(sizes)], count - got))
                if not b: return
                h.update(b); got += len(b); i += 1
        take(1 << 20)
        print("ready", flush=True)
        signal.sigwait({signal.SIGUSR1})
        take(int(sys.argv[2]))
        print("away", got, flush=True)
        signal.sigwait({signal.SIGUSR1})
        take(None)
        print("got", got, h.hexdigest(), flush=True)
        """;

    [Fact]
    public void A_program_brought_home_while_home_held_bytes_of_its_pipe_for_it_reads_every_byte_once_in_order_then_end_of_file() =>
        _lab.ExplainingFailure(() =>
        {
            var (pipeRead, pipeWrite) = Descriptors.CreatePipe();
            var stream = new byte[Total];
            new Random(15).NextBytes(stream);
            // Only the program holds the read end (the test's goes once it started): read ahead without checks.
            using var reader = ForwardingBulkLabTests.StartWithFd7(_lab, ["python3", "-c", Reader, "fd7", $"{Away}"], pipeRead);
            var writer = Task.Run(() =>
            {
                using (pipeWrite) Descriptors.WriteAll(pipeWrite, stream);
            }, TestContext.Current.CancellationToken);
            ReadAwayThenBroughtHome(reader);
            Assert.Equal(new ChildExit(0, 0), reader.Process.WaitForExit(TimeSpan.FromSeconds(120)));
            Assert.True(writer.Wait(TimeSpan.FromSeconds(30)), "the writer finished");
            Assert.Equal($"got {Total} {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))}", reader.Lines()[^1]);
        });

    /// <summary>The reader moved to node 2 reads <see cref="Away"/> bytes there, then is brought home while it waits for
    /// the signal, not in a read, so what its node read ahead is in that node's buffer; then it is let go at home.</summary>
    private void ReadAwayThenBroughtHome(ManagedRun reader)
    {
        reader.WaitForLines(1);
        _lab.Migrate(1, reader.Pid, "2");
        Signals.Kill(reader.Pid, Signals.SIGUSR1);
        reader.WaitForLines(2);
        Assert.Equal($"away {Away}", reader.Lines()[1]);
        _lab.Migrate(1, reader.Pid, "home");
        Assert.Equal("home", _lab.Processes(1).Processes.Single(p => p.Pid == reader.Pid).State);
        Signals.Kill(reader.Pid, Signals.SIGUSR1);
    }

    [Fact]
    public void A_program_brought_home_while_bytes_were_read_ahead_for_it_reads_every_byte_once_in_order_then_end_of_file()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var source = _lab.InNode(1, ["python3", "-c", Source, $"{port}", $"{Total}"]);
        source.WaitForLines(1);
        using var reader = _lab.Managed(1, "python3", "-c", Reader, $"{port}", $"{Away}");
        ReadAwayThenBroughtHome(reader);
        Assert.Equal(new ChildExit(0, 0), reader.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(new ChildExit(0, 0), source.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        var sent = source.Lines()[^1].Split(' ');
        Assert.Equal($"got {sent[1]} {sent[2]}", reader.Lines()[^1]);
    }
}
