using System.Net;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Tests.Config;

public sealed class WebListenConfigTests
{
    private static OmdConfig Parse(string value) => OmdConfigLoader.Parse($"[web]\nlisten = {value}\n", "/etc/openmosix/omd.toml");

    [Fact]
    public void The_web_listener_is_on_loopback_port_5726_by_default()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5726), new OmdConfig().WebListen);
    }

    [Fact]
    public void An_empty_listen_value_turns_the_listener_off()
    {
        Assert.Null(Parse("\"\"").WebListen);
    }

    [Theory]
    [InlineData("\"0.0.0.0:8080\"", "0.0.0.0:8080")]
    [InlineData("\"10.77.1.1:5726\"", "10.77.1.1:5726")]
    [InlineData("\"[::1]:9100\"", "[::1]:9100")]
    public void An_address_and_port_are_taken(string value, string expected)
    {
        Assert.Equal(IPEndPoint.Parse(expected), Parse(value).WebListen);
    }

    [Theory]
    [InlineData("\"127.0.0.1\"")]
    [InlineData("\"localhost:5726\"")]
    [InlineData("\"127.0.0.1:0\"")]
    [InlineData("\"127.0.0.1:70000\"")]
    [InlineData("\"::1\"")]
    [InlineData("\"127.0.0.1:5726 \"")]
    public void A_value_that_is_not_an_address_and_port_is_one_line_naming_the_key(string value)
    {
        var error = Assert.Throws<ConfigException>(() => Parse(value));
        Assert.StartsWith("/etc/openmosix/omd.toml:2: web.listen: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_listen_value_that_is_not_a_string_names_the_key()
    {
        var error = Assert.Throws<ConfigException>(() => Parse("5726"));
        Assert.Equal("/etc/openmosix/omd.toml:2: web.listen must be a quoted \"address:port\" or \"\"", error.Message);
    }
}
