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
    /// Seconds each collection took, one test after the other, in the quiet CI rehearsal of 7 December 04:11; for
    /// classes added or shortened since, their time run alone under load 40-57 times 0.83 (what the same classes took
    /// quiet against loaded); for the classes whose programs now end when the test is done (issue #12's fourth pass),
    /// the old figure times what they took against main's build, side by side under load. Keyed by the collection's
    /// name, or by the class name for a class that is a collection of its own. Only the order matters: a stale figure
    /// costs time at the end of the suite, never a test.
    /// </summary>
    private static readonly Dictionary<string, int> Seconds = new(StringComparer.Ordinal)
    {
        [ForkLab.ShellsCollection] = 194,
        [ForkLab.Collection] = 122,
        [MigrationLab.Collection] = 118,
        [nameof(TreeMoveLabTests)] = 114,
        [MigrationLab.ProgramsCollection] = 113,
        [MigrationLab.ThreadsCollection] = 111,
        [nameof(RemoteForkLabTests)] = 89,
        [nameof(ChildOnACrashedNodeLabTests)] = 83,
        [nameof(LabFaultTests)] = 83,
        [nameof(BalancingLabTests)] = 78,
        [nameof(RemoteForkSettingsLabTests)] = 76,
        [nameof(StoppedProcessLabTests)] = 73,
        [nameof(PostcopyFaultLabTests)] = 70,
        [nameof(NodeFailureLabTests)] = 68,
        [nameof(CheckpointRestartLabTests)] = 63,
        [nameof(GuestTakeoverLabTests)] = 61,
        [nameof(StopDuringTripLabTests)] = 58,
        [nameof(UsheringLabTests)] = 57,
        [MigrationLab.ForwardingCollection] = 56,
        [nameof(TakenOverCopyMovesAndCheckpointsLabTests)] = 52,
        [nameof(TakeoverWindowLabTests)] = 50,
        [nameof(PartitionLabTests)] = 48,
        [nameof(CheckpointReplayAndHomecomingLabTests)] = 46,
        [nameof(ForwardedDescriptorsTravelLabTests)] = 46,
        [nameof(PostcopyAfterRoundsLabTests)] = 43,
        [nameof(ProtocolVersionLabTests)] = 43,
        [nameof(SignalsAfterImageLabTests)] = 41,
        [nameof(ClusterLabTests)] = 39,
        [nameof(UpgradeLabTests)] = 39,
        [nameof(RestartElsewhereLabTests)] = 28,
        [nameof(SocketsCreatedAwayLabTests)] = 25,
        [nameof(TakenOverCopySentHomeLabTests)] = 22,
        [nameof(MonitorLabTests)] = 15,
        [nameof(RestartLabTests)] = 15,
        [nameof(HpcTreeLabTests)] = 14,
        [nameof(TakeoverLabTests)] = 11,
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
