using OpenMosix.Fuzz.Tests.Engine;
using OpenMosix.Fuzz.Tests.Targets;

namespace OpenMosix.Fuzz.Tests;

/// <summary>Every fuzz target by its corpus name.</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<FuzzTarget>> ByName = new(StringComparer.Ordinal)
    {
        ["image"] = () => new ImageTarget(),
        ["gossip"] = () => new GossipTarget(),
        ["announcement"] = () => new AnnouncementTarget(),
        ["link"] = () => new LinkFrameTarget(),
        ["message"] = () => new MessageTarget(),
        ["map"] = () => new MapTarget(),
        ["config"] = () => new ConfigTarget(),
        ["http"] = () => new HttpRequestTarget(),
        ["admin-json"] = () => new AdminJsonTarget(),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static FuzzTarget Create(string name) => ByName[name]();

    public static TheoryData<string> All() => [.. Names];
}

/// <summary>One target at a time: the time limit per input must measure the parser, not a neighbour competing for two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "fuzz";
}
