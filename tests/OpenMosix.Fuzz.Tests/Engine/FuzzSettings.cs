using System.Globalization;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>
/// How long and how each target is fuzzed. OM_FUZZ_SECONDS: seconds of mutation per target (default 4, so the ten
/// targets stay under a minute in the test command); OM_FUZZ_SEED: the seed of the first target (default: fresh per
/// run, printed); OM_FUZZ_FAILURES: where an offending input is written (default /tmp/openmosix-fuzz).
/// </summary>
public sealed record FuzzSettings(TimeSpan Budget, int Seed, TimeSpan InputTimeLimit, long AllocationLimit, string FailureDirectory)
{
    public const double DefaultSeconds = 4;

    public static FuzzSettings FromEnvironment()
    {
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("OM_FUZZ_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0
            ? s
            : DefaultSeconds;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("OM_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        var failures = Environment.GetEnvironmentVariable("OM_FUZZ_FAILURES") is { Length: > 0 } dir ? dir : "/tmp/openmosix-fuzz";
        return new FuzzSettings(TimeSpan.FromSeconds(seconds), seed, TimeSpan.FromSeconds(2), 64L << 20, failures);
    }
}
