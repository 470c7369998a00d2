using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Migration.Forwarding;

namespace OpenMosix.Daemon.Tests.Config;

/// <summary>[files] home_paths: read and checked at start; which paths they cover; what the wire lets through.</summary>
public sealed class HomePathsConfigTests
{
    [Fact]
    public void Home_paths_are_read_from_the_files_table()
    {
        var config = OmdConfigLoader.Parse("[files]\nhome_paths = [\"/home\", \"/data/\"]\n", "omd.toml");
        Assert.Equal(["/home", "/data/"], config.HomePaths);
        Assert.Equal(["/home", "/data"], new HomePaths(config.HomePaths).Prefixes);
    }

    [Theory]
    [InlineData("data", "not absolute")]
    [InlineData("/", "every file home's")]
    [InlineData("/data/../etc", "'..'")]
    public void A_home_path_that_is_not_an_absolute_directory_below_the_root_stops_omd(string path, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse($"[files]\nhome_paths = [\"{path}\"]\n", "omd.toml"));
        Assert.Contains("files.home_paths", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/data", true)]
    [InlineData("/data/x/y.txt", true)]
    [InlineData("/data//x", true)]
    [InlineData("/srv/../data/x", true)]
    [InlineData("/database", false)]
    [InlineData("/data/../etc/passwd", false)]
    [InlineData("data/x", false)]
    [InlineData("/etc/hostname", false)]
    public void A_home_path_covers_itself_and_what_lies_below_it_by_whole_components(string path, bool covered)
    {
        Assert.Equal(covered, new HomePaths(["/data"]).Covers(path));
    }

    [Fact]
    public void No_home_paths_cover_nothing()
    {
        Assert.False(HomePaths.None.Covers("/data/x"));
        Assert.True(HomePaths.None.IsEmpty);
    }

    [Fact]
    public void A_path_call_must_name_an_absolute_path_or_a_directory_and_flags_the_wire_knows()
    {
        var path = "/data/x"u8.ToArray();
        Assert.Null(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.Open, PathCallWire.AtFdCwd, 0, 0x1a4, 100) { Data = path }));
        Assert.Null(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.PathStatus, 5, PathCallWire.AtSymlinkNoFollow) { Data = "x"u8.ToArray() }));
        Assert.NotNull(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.PathStatus, PathCallWire.AtFdCwd) { Data = "x"u8.ToArray() }));
        Assert.NotNull(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.PathStatus, PathCallWire.AtFdCwd, 0x1000) { Data = path }));
        Assert.NotNull(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.Open, PathCallWire.AtFdCwd, 0, 0, 2) { Data = path }));
        Assert.NotNull(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.Access, PathCallWire.AtFdCwd, 0) { Data = new byte[] { (byte)'/', 0, (byte)'x' } }));
        Assert.NotNull(PathCallWire.Problem(new ForwardRequest(1, ForwardOp.ReadLink, PathCallWire.AtFdCwd, 0) { Data = path }));
    }
}
