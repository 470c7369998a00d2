namespace OpenMosix.Lab.Tests;

/// <summary>Names and resource lists: pure rules, no lab needed.</summary>
public sealed class LabNamingTests
{
    [Theory]
    [InlineData("a-1", true)]
    [InlineData("a-12", true)]
    [InlineData("a-1-1", false)]
    [InlineData("a--1", false)]
    [InlineData("a-01", false)]
    [InlineData("a-", false)]
    [InlineData("ab-1", false)]
    public void A_lab_claims_only_its_own_network_namespaces(string netns, bool claimed)
    {
        Assert.Equal(claimed, LabName.Parse("a").IsNetworkNamespace(netns));
    }

    [Theory]
    [InlineData("av1", true)]
    [InlineData("av253", true)]
    [InlineData("avv1", false)]
    [InlineData("av1v2", false)]
    [InlineData("abr", false)]
    [InlineData("eth0", false)]
    public void A_lab_claims_only_its_own_host_links(string link, bool claimed)
    {
        Assert.Equal(claimed, LabName.Parse("a").IsHostVeth(link));
    }

    [Fact]
    public void Every_derived_interface_name_fits_the_kernel_limit_of_15_characters()
    {
        var longest = LabName.Parse(new string('x', LabName.MaxLength));
        Assert.True(longest.Bridge.Length <= 15);
        Assert.True(longest.HostVeth(LabSpec.MaxNodes).Length <= 15);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1lab")]
    [InlineData("Lab")]
    [InlineData("lab_1")]
    [InlineData("abcdefghijk")]
    public void A_name_that_would_not_make_valid_interface_names_is_refused(string name)
    {
        Assert.Contains("is not valid", Assert.Throws<LabException>(() => LabName.Parse(name)).Message);
    }

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("8k", 8192L)]
    public void Memory_sizes_take_binary_suffixes(string text, long bytes)
    {
        Assert.Equal(bytes, ResourceLists.ParseBytes(text));
    }

    [Fact]
    public void One_value_applies_to_every_node_and_a_list_gives_one_per_node()
    {
        var same = ResourceLists.Build(3, "0.5", "1G");
        Assert.All(same, n => Assert.Equal(new NodeResources(0.5, 1L << 30), n));
        var each = ResourceLists.Build(2, "0.25,1", null);
        Assert.Equal([new NodeResources(0.25, null), new NodeResources(1, null)], each);
    }
}
