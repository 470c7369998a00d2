using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests;

/// <summary>
/// Each target (or those OM_FUZZ_TARGETS lists, comma-separated) mutated for OM_FUZZ_SECONDS (default 4 s): every
/// input is accepted or refused with the documented exception and a one-line message, within 2 s and 64 MiB. A finding
/// fails the test with the input saved and shown.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class FuzzTests
{
    public static TheoryData<string> Targets => FuzzTargets.All();

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_inputs_are_accepted_or_refused_with_a_typed_one_line_error(string target)
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("OM_FUZZ_TARGETS") is { Length: > 0 } only && !only.Split(',').Contains(target),
            $"OM_FUZZ_TARGETS leaves {target} out");
        using var fuzz = FuzzTargets.Create(target);
        var settings = FuzzSettings.FromEnvironment();
        TestContext.Current.SendDiagnosticMessage($"fuzz {target}: seed {settings.Seed} (set OM_FUZZ_SEED={settings.Seed} to replay)");
        var report = FuzzRunner.Run(fuzz, settings);
        TestContext.Current.SendDiagnosticMessage(report.ToString());
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Assert.True(report.Inputs > 0 || settings.Budget == TimeSpan.Zero, $"{target}: no input was tried");
    }
}
