using OpenMosix.Lab.Tests.Support;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Four nodes of half a CPU each, with omd: shared by the process tree tests of one collection, one at a time. Two such
/// collections, each with a lab of its own: in one lab they took four minutes, one class after the other.
/// </summary>
public sealed class ForkLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(4, "--cpus", "0.5,0.5,0.5,0.5", "--timeout", "15");

    /// <summary>Fork-and-forget, process trees of real programs, a parent forking while it moves.</summary>
    public const string Collection = "fork lab";

    /// <summary>Plain processes adopted, and shells: job control, a parent away from its children.</summary>
    public const string ShellsCollection = "fork lab: adoption and shells";

    public void Dispose() => Lab.Dispose();
}

/// <summary>The classes of each collection share its lab and run one after the other.</summary>
[CollectionDefinition(ForkLab.Collection)]
public sealed class ForkLabCollection : ICollectionFixture<ForkLab>;

[CollectionDefinition(ForkLab.ShellsCollection)]
public sealed class ForkLabShellsCollection : ICollectionFixture<ForkLab>;
