using System.Security.Cryptography;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15 with real programs that were not written for it: curl moved in the middle of a download from a web server
/// on its home node goes on over its connection, now served from home, and the file it writes is the one served; a UDP
/// client moved mid-conversation goes on from the same address, home's.
/// </summary>
[Collection(MigrationLab.Collection)]
public sealed class ForwardingProgramsLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Serves one GET with the file, 64 KiB every 150 ms (about 7 s for 3 MiB: curl is moved with most of it
    /// still to come; curl's own --limit-rate let a loopback transfer through at once).</summary>
    private const string SlowWebServer = """
        import socket, sys, time
        data = open(sys.argv[2], "rb").read()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            request += c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(data))
        for at in range(0, len(data), 65536):
            c.sendall(data[at:at + 65536])
            time.sleep(0.15)
        c.close()
        """;

    [Fact]
    public void Curl_moved_mid_download_from_a_web_server_at_home_writes_the_file_the_server_served()
    {
        var directory = Path.Combine(_lab.Layout.NodeDirectory(1), $"www-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var served = RandomNumberGenerator.GetBytes(3 << 20);
        File.WriteAllBytes(Path.Combine(directory, "file"), served);
        var output = Path.Combine(directory, "downloaded");
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", SlowWebServer, $"{port}", Path.Combine(directory, "file")]);
        try
        {
            server.WaitForLines(1);
            using var curl = _lab.Managed(1, "curl", "--silent", "--show-error", "--fail", "--output", output, $"http://127.0.0.1:{port}/file");
            Poll.Until(() => File.Exists(output) && new FileInfo(output).Length > 0, TimeSpan.FromSeconds(30), "curl to start writing the file");
            _lab.Migrate(1, curl.Pid, "2");
            Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == curl.Pid).State);
            Assert.True(new FileInfo(output).Length < served.Length, "curl must be moved before the download ends");
            Assert.Equal(new ChildExit(0, 0), curl.Process.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Equal(Convert.ToHexString(SHA256.HashData(served)), Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(output))));
        }
        finally
        {
            if (!server.Process.HasExited) OpenMosix.Linux.Signals.Kill(server.Pid, OpenMosix.Linux.Signals.SIGKILL);
            Directory.Delete(directory, recursive: true);
        }
    }

    private const int Datagrams = 80;

    private const string UdpServer = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", int(sys.argv[1])))
        print("bound", flush=True)
        for i in range(int(sys.argv[2])):
            data, address = s.recvfrom(100)
            s.sendto(data.upper(), address)
            print("from", address[1], flush=True)
        """;

    private const string UdpClient = """
        import socket, sys, time
        server = ("127.0.0.1", int(sys.argv[1]))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(int(sys.argv[2])):
            s.sendto(b"dgram %d" % i, server)
            data, address = s.recvfrom(100)
            print(data.decode(), address == server, flush=True)
            time.sleep(0.1)
        """;

    [Fact]
    public void A_udp_client_moved_mid_conversation_gets_every_answer_and_its_server_sees_one_address_throughout()
    {
        var port = Random.Shared.Next(20000, 40000);
        using var server = _lab.InNode(1, ["python3", "-c", UdpServer, $"{port}", $"{Datagrams}"]);
        try
        {
            server.WaitForLines(1);
            using var client = _lab.Managed(1, "python3", "-c", UdpClient, $"{port}", $"{Datagrams}");
            client.WaitForLines(3);
            _lab.Migrate(1, client.Pid, "2");
            Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == client.Pid).State);
            Assert.Equal(new ChildExit(0, 0), client.Process.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Equal([.. Enumerable.Range(0, Datagrams).Select(i => $"DGRAM {i} True")], client.Lines());
            Assert.Equal(new ChildExit(0, 0), server.Process.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Single(server.Lines().Skip(1).Distinct());
        }
        finally
        {
            if (!server.Process.HasExited) OpenMosix.Linux.Signals.Kill(server.Pid, OpenMosix.Linux.Signals.SIGKILL);
        }
    }
}
