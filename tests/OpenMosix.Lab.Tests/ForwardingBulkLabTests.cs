using System.Security.Cryptography;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15 point 5: bulk transfer through descriptors home keeps. Writes on a blocking pipe or stream socket are
/// written behind (answered once their pieces are on the link, docs/forwarding.md): the bytes still arrive whole and
/// in order, end of file still follows them, and an error home met is given to the program's next write.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ForwardingBulkLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Counts and hashes what one connection brings until its end.</summary>
    private const string Sink = """
        import hashlib, socket, sys
        s = socket.create_server(("127.0.0.1", int(sys.argv[1])))
        print("listening", flush=True)
        c, _ = s.accept()
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 20)
            if not b: break
            h.update(b); n += len(b)
        print("got", n, h.hexdigest(), flush=True)
        """;

    /// <summary>Once moved (SIGUSR1), writes the same numbered stream, in writes of many sizes (from 1 byte to several
    /// pieces), to fd 7 and to the sink; prints what it sent, then closes both.</summary>
    private const string Streamer = """
        import hashlib, os, random, signal, socket, sys
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        print("ready", flush=True)
        signal.sigwait({signal.SIGUSR1})
        rng, h, n = random.Random(15), hashlib.sha256(), 0
        for size in [1, 4095, 65536, 1 << 20, 3 << 20, 777, (1 << 20) + 1] * 3:
            data = memoryview(rng.randbytes(size))
            h.update(data); n += size
            done = 0
            while done < size: done += os.write(7, data[done:])
            c.sendall(data)
        os.close(7)
        c.close()
        print("sent", n, h.hexdigest(), flush=True)
        """;

    [Fact]
    public void A_moved_program_streaming_megabytes_to_a_pipe_and_a_socket_at_home_delivers_every_byte_in_order_then_end_of_file()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var sink = _lab.InNode(1, ["python3", "-c", Sink, $"{port}"]);
        sink.WaitForLines(1);
        var (pipeRead, pipeWrite) = Descriptors.CreatePipe();
        var pipeHash = "";
        long pipeBytes = 0;
        var reader = new Thread(() =>
        {
            using var stream = new FileStream(pipeRead, FileAccess.Read);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                pipeBytes += n;
            }
            pipeHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        }) { IsBackground = true };
        reader.Start();
        using var streamer = StartWithFd7(_lab, ["python3", "-c", Streamer, $"{port}"], pipeWrite);
        streamer.WaitForLines(1);
        _lab.Migrate(1, streamer.Pid, "2");
        Signals.Kill(streamer.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), streamer.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var sent = streamer.Lines()[^1].Split(' ');
        Assert.Equal("sent", sent[0]);
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "the pipe on fd 7 reaches end of file after the last byte written behind");
        Assert.Equal((long.Parse(sent[1]), sent[2]), (pipeBytes, pipeHash));
        Assert.Equal(new ChildExit(0, 0), sink.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal($"got {sent[1]} {sent[2]}", sink.Lines()[^1]);
    }

    /// <summary>Once moved, writes 64 KiB at a time to fd 7 until a write fails; says how.</summary>
    private const string Writer = """
        import os, signal
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        print("ready", flush=True)
        signal.sigwait({signal.SIGUSR1})
        chunk = b"y" * 65536
        for i in range(100000):
            try:
                os.write(7, chunk)
            except BrokenPipeError:
                print("broken pipe after", i, flush=True)
                break
        else:
            print("never failed", flush=True)
        """;

    [Fact]
    public void A_write_home_could_not_make_for_a_write_answered_ahead_fails_the_next_write_with_epipe()
    {
        var (pipeRead, pipeWrite) = Descriptors.CreatePipe();
        using var writer = StartWithFd7(_lab, ["python3", "-c", Writer], pipeWrite);
        writer.WaitForLines(1);
        _lab.Migrate(1, writer.Pid, "2");
        Signals.Kill(writer.Pid, Signals.SIGUSR1);
        using (var stream = new FileStream(pipeRead, FileAccess.Read))
        {
            var buffer = new byte[1 << 20];
            var read = 0;
            while (read < buffer.Length) read += stream.Read(buffer, read, buffer.Length - read);
        }
        Assert.Equal(new ChildExit(0, 0), writer.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.StartsWith("broken pipe after ", writer.Lines()[^1]);
    }

    /// <summary>om run of <paramref name="program"/> in node 1 of <paramref name="lab"/> with <paramref name="fd7"/> as
    /// its fd 7 (closed here); also ForwardingLabTests'.</summary>
    internal static ManagedRun StartWithFd7(TestLab lab, string[] program, Microsoft.Win32.SafeHandles.SafeFileHandle fd7)
    {
        var (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
        string[] command = ["lab", "exec", "--name", lab.Name, "1", "--", Om.Path, "run", .. program];
        using (fd7)
        using (stdoutWrite)
        {
            var process = ChildProcess.Start(Om.Path, command, stdout: stdoutWrite,
                inherited: new Dictionary<int, Microsoft.Win32.SafeHandles.SafeFileHandle> { [7] = fd7 });
            return new ManagedRun(process, stdoutRead, Path.Combine(lab.Layout.NodeDirectory(1), $"fd7-{Guid.NewGuid():N}.out"));
        }
    }
}
