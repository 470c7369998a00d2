using Xunit.Sdk;
using Xunit.v3;

[assembly: Xunit.TestCollectionOrderer(typeof(OpenMosix.Lab.Tests.Support.LongestFirst))]

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// Starts the lab test collections longest first. xunit's own order is random, and three at a time (Parallelism.cs)
/// the suite then ends with whichever long collection happened to start last: scheduling a CI rehearsal's durations in
/// random orders gave a median of 749 s and 785 s in nine runs of ten for 717 s of work per slot, longest first 717 s
/// (docs/testing.md#how-long-the-suite-takes-and-what-bounds-it). Only the order changes; every test still runs.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    /// <summary>What a collection not in <see cref="Seconds"/> is taken to last: a typical lab test class.</summary>
    private const int Unmeasured = 30;

    /// <summary>
    /// Seconds each collection took, one test after the other, in a quiet CI rehearsal (or, for classes added since,
    /// run alone): keyed by the collection's name, or by the class name for a class that is a collection of its own.
    /// Only the order matters: a stale figure costs time at the end of the suite, never a test.
    /// </summary>
    private static readonly Dictionary<string, int> Seconds = new(StringComparer.Ordinal)
    {
        [ForkLab.ShellsCollection] = 194,
        [nameof(GuestTakeoverLabTests)] = 142,
        [ForkLab.Collection] = 122,
        [MigrationLab.Collection] = 118,
        [MigrationLab.ProgramsCollection] = 113,
        [MigrationLab.ThreadsCollection] = 111,
        [nameof(TakenOverCopyMovesAndCheckpointsLabTests)] = 109,
        [nameof(ChildOnACrashedNodeLabTests)] = 102,
        [nameof(TakeoverWindowLabTests)] = 96,
        [nameof(RemoteForkLabTests)] = 89,
        [nameof(CheckpointRestartLabTests)] = 79,
        [nameof(BalancingLabTests)] = 78,
        [nameof(PostcopyFaultLabTests)] = 70,
        [nameof(NodeFailureLabTests)] = 68,
        [nameof(LabFaultTests)] = 64,
        [nameof(TakenOverCopySentHomeLabTests)] = 59,
        [nameof(UsheringLabTests)] = 57,
        [MigrationLab.ForwardingCollection] = 56,
        [nameof(RestartElsewhereLabTests)] = 50,
        [nameof(PartitionLabTests)] = 48,
        [nameof(CheckpointReplayAndHomecomingLabTests)] = 47,
        [nameof(PostcopyAfterRoundsLabTests)] = 43,
        [nameof(ClusterLabTests)] = 39,
        [nameof(StoppedProcessLabTests)] = 36,
        [nameof(RestartLabTests)] = 36,
        [nameof(TakeoverLabTests)] = 31,
        [nameof(MonitorLabTests)] = 15,
        [nameof(HpcTreeLabTests)] = 14,
        [nameof(DashboardLabTests)] = 11,
        [nameof(WireSecrecyLabTests)] = 10,
        [nameof(LinkSecurityLabTests)] = 10,
        [nameof(PostcopyLabTests)] = 10,
    };

    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection =>
        [.. testCollections.OrderByDescending(c => SecondsOf(c.TestCollectionDisplayName)).ThenBy(c => c.TestCollectionDisplayName, StringComparer.Ordinal)];

    /// <summary>A class that is a collection of its own is named "Test collection for NAMESPACE.CLASS" by xunit.</summary>
    internal static int SecondsOf(string displayName)
    {
        const string perClass = "Test collection for ";
        var key = displayName;
        if (key.StartsWith(perClass, StringComparison.Ordinal))
        {
            key = key[perClass.Length..].Split(" (")[0];
            key = key[(key.LastIndexOf('.') + 1)..];
        }
        return Seconds.GetValueOrDefault(key, Unmeasured);
    }
}
