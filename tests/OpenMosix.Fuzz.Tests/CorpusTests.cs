using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests;

/// <summary>
/// The checked-in corpus: its valid inputs still parse (a format change that makes them stale says so here; rewrite
/// them with OM_FUZZ_WRITE_CORPUS=1), and every edge case and past crash is handled cleanly.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class CorpusTests
{
    public static TheoryData<string> Targets => FuzzTargets.All();

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_checked_in_input_is_handled_and_every_valid_one_accepted(string target)
    {
        using var fuzz = FuzzTargets.Create(target);
        if (Environment.GetEnvironmentVariable("OM_FUZZ_WRITE_CORPUS") == "1") Corpus.WriteSeeds(fuzz);
        var corpus = Corpus.Load(target);
        Assert.Contains(corpus, c => c.Name.StartsWith(Corpus.ValidPrefix, StringComparison.Ordinal));
        var settings = FuzzSettings.FromEnvironment();
        foreach (var (name, data) in corpus)
        {
            if (FuzzRunner.Replay(fuzz, data, settings, out var accepted) is { } finding) Assert.Fail($"{target}/{name}: {finding}");
            if (name.StartsWith(Corpus.ValidPrefix, StringComparison.Ordinal)) Assert.True(accepted, $"{target}/{name} is refused");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_seeds_the_code_makes_today_are_accepted(string target)
    {
        using var fuzz = FuzzTargets.Create(target);
        foreach (var (name, data) in fuzz.Seeds())
        {
            if (FuzzRunner.Replay(fuzz, data, FuzzSettings.FromEnvironment(), out var accepted) is { } finding) Assert.Fail($"{target}: seed {name}: {finding}");
            Assert.True(accepted, $"{target}: the seed {name} made by the code is refused");
        }
    }
}
