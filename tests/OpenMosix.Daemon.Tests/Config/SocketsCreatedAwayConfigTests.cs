using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Config;

/// <summary>[forwarding] sockets_created_away: read and checked at start; what home refuses to do for a process with
/// root's credentials when the kernel would have checked the process's own.</summary>
public sealed class SocketsCreatedAwayConfigTests
{
    [Fact]
    public void Sockets_created_away_are_made_at_home_unless_the_forwarding_table_says_node()
    {
        Assert.Equal("home", OmdConfigLoader.Parse("", "omd.toml").SocketsCreatedAway);
        Assert.Equal("node", OmdConfigLoader.Parse("[forwarding]\nsockets_created_away = \"node\"\n", "omd.toml").SocketsCreatedAway);
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse("[forwarding]\nsockets_created_away = \"away\"\n", "omd.toml"));
        Assert.Contains("forwarding.sockets_created_away", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Home_refuses_a_unix_socket_path_for_the_process_and_lets_an_abstract_name_and_a_high_port_through()
    {
        var pid = Environment.ProcessId;
        byte[] unixPath = [1, 0, (byte)'/', (byte)'t', (byte)'m', (byte)'p', 0];
        byte[] unixAbstract = [1, 0, 0, (byte)'x'];
        byte[] inetHigh = [2, 0, 0x9c, 0x40, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]; // 127.0.0.1:40000
        Assert.Equal(-(long)Errno.EACCES, HomeSocketCalls.Refusal(pid, new ForwardRequest(1, ForwardOp.Connect, 5) { Address = unixPath }, NullLogger.Instance));
        Assert.Equal(-(long)Errno.EACCES, HomeSocketCalls.Refusal(pid, new ForwardRequest(1, ForwardOp.Bind, 5) { Address = unixPath }, NullLogger.Instance));
        Assert.Equal(0, HomeSocketCalls.Refusal(pid, new ForwardRequest(1, ForwardOp.Connect, 5) { Address = unixAbstract }, NullLogger.Instance));
        Assert.Equal(0, HomeSocketCalls.Refusal(pid, new ForwardRequest(1, ForwardOp.Bind, 5) { Address = inetHigh }, NullLogger.Instance));
        Assert.Equal(0, HomeSocketCalls.Refusal(pid, new ForwardRequest(1, ForwardOp.SetOption, 5, 6, 1) { Data = new byte[4] }, NullLogger.Instance));
    }
}
