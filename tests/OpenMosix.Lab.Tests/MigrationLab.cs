using OpenMosix.Lab.Tests.Support;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A 3-node lab with omd in every node, shared by the migration tests of one collection (each test uses its own
/// processes). There are four such collections, each with a lab of its own: xunit runs the classes of a collection one
/// after the other, and all of them in one lab took five and a half minutes, longer than any other lab test class, so
/// they bounded the whole suite (docs/testing.md).
/// </summary>
public sealed class MigrationLab : IDisposable
{
    // Node 3 is small (384 MiB): a node that must refuse a big process (400 MiB) for want of memory. Not smaller: omd
    // itself takes 100-135 MB there while it moves processes (image buffers), and in a 256 MiB node its GC heap (limited
    // to 3/4 of the node) once ran out in the middle of a restore.
    // No automatic balancing: these tests move processes themselves and must find them where they put them.
    internal TestLab Lab { get; } = TestLab.WithDaemons(3, "--timeout", "15", "--mem", "4G,4G,384M", "--no-balance");

    /// <summary>Moves of small programs, memory, refusals, rights (MigrationLabTests).</summary>
    public const string Collection = "migration lab";

    /// <summary>Real programs (bc, xz, gzip, python, a pipeline) moved in the middle of their work.</summary>
    public const string ProgramsCollection = "migration lab: real programs";

    /// <summary>Threaded programs, and processes coming home.</summary>
    public const string ThreadsCollection = "migration lab: threads and homecoming";

    /// <summary>Forwarded descriptors (pipes, sockets, poll, bulk transfers) and terminals.</summary>
    public const string ForwardingCollection = "migration lab: forwarding and terminals";

    public void Dispose() => Lab.Dispose();
}

/// <summary>The classes of each collection share its lab and run one after the other.</summary>
[CollectionDefinition(MigrationLab.Collection)]
public sealed class MigrationLabCollection : ICollectionFixture<MigrationLab>;

[CollectionDefinition(MigrationLab.ProgramsCollection)]
public sealed class MigrationLabProgramsCollection : ICollectionFixture<MigrationLab>;

[CollectionDefinition(MigrationLab.ThreadsCollection)]
public sealed class MigrationLabThreadsCollection : ICollectionFixture<MigrationLab>;

[CollectionDefinition(MigrationLab.ForwardingCollection)]
public sealed class MigrationLabForwardingCollection : ICollectionFixture<MigrationLab>;
