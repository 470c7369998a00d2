using System.Globalization;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>Seeds for the random checkpoint moments: OM_TEST_SEED replays a logged failure, otherwise a fresh one.</summary>
internal static class TestSeed
{
    public static Random Create()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("OM_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        TestLog.Line($"random seed {seed} (rerun with OM_TEST_SEED={seed} to replay the same checkpoint moments)");
        return new Random(seed);
    }
}
