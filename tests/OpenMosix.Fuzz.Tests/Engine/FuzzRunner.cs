using System.Diagnostics;
using System.Globalization;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>What a run did, for the test output.</summary>
public sealed record FuzzReport(string Target, int Seed, long Inputs, long Accepted, IReadOnlyDictionary<string, long> Refusals,
    TimeSpan Slowest, long MostAllocated)
{
    public override string ToString()
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"{Target}: seed {Seed}, {Inputs} inputs, {Accepted} accepted, slowest {Slowest.TotalMilliseconds:F1} ms, most allocated {MostAllocated >> 10} KiB"),
        };
        lines.AddRange(Refusals.OrderByDescending(r => r.Value).Select(r => $"  {r.Value,8}  {r.Key}"));
        return string.Join('\n', lines);
    }
}

/// <summary>A finding: the message names the target, seed and input number, where the input was saved, and its hex.</summary>
public sealed class FuzzFinding(string message) : Exception(message);

/// <summary>
/// Mutates a target's corpus for a bounded time and judges every input with <see cref="Oracle"/>. Inputs come from one
/// seeded <see cref="Random"/>: the same seed gives the same inputs in the same order. Mutants that the target accepts
/// join the pool, so mutation goes on from valid inputs deeper than the seeds (a cheap stand-in for coverage).
/// </summary>
public static class FuzzRunner
{
    private const int MaxPool = 512;

    public static FuzzReport Run(FuzzTarget target, FuzzSettings settings)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(settings);
        var pool = Corpus.Load(target.Name).Select(c => c.Data).ToList();
        if (pool.Count == 0) throw new FuzzFinding($"{target.Name}: no corpus under Corpus/{target.Name} (run with OM_FUZZ_WRITE_CORPUS=1)");
        using var sandbox = new Sandbox();
        // Once through the corpus first: the JIT and the parsers' buffer pools warm up outside the allocation bound.
        foreach (var input in pool) sandbox.Run(() => target.Run(input), TimeSpan.FromSeconds(30));

        var random = new Random(settings.Seed);
        var mutator = new Mutator(random, target.Dictionary);
        var refusals = new Dictionary<string, long>(StringComparer.Ordinal);
        long inputs = 0, accepted = 0, mostAllocated = 0;
        var slowest = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < settings.Budget)
        {
            var input = target.Mutate(mutator, pool[random.Next(pool.Count)], pool);
            var outcome = sandbox.Run(() => target.Run(input), settings.InputTimeLimit);
            inputs++;
            if (Oracle.Judge(target, outcome, settings) is { } finding) throw new FuzzFinding(Describe(target, settings, inputs, input, finding));
            slowest = outcome.Elapsed > slowest ? outcome.Elapsed : slowest;
            mostAllocated = Math.Max(mostAllocated, outcome.Allocated);
            if (outcome.Error is { } refusal)
            {
                var kind = Oracle.Kind(refusal);
                refusals[kind] = refusals.GetValueOrDefault(kind) + 1;
            }
            else if (outcome.Accepted)
            {
                accepted++;
                if (pool.Count < MaxPool) pool.Add(input);
            }
        }
        return new FuzzReport(target.Name, settings.Seed, inputs, accepted, refusals, slowest, mostAllocated);
    }

    /// <summary>Runs one saved input through the oracle (corpus replay, regression tests); null when it is handled.</summary>
    public static string? Replay(FuzzTarget target, byte[] input, FuzzSettings settings, out bool accepted)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var sandbox = new Sandbox();
        var outcome = sandbox.Run(() => target.Run(input), TimeSpan.FromSeconds(30));
        accepted = outcome.Accepted;
        return Oracle.Judge(target, outcome with { Allocated = 0 }, settings with { InputTimeLimit = TimeSpan.FromSeconds(30) });
    }

    private static string Describe(FuzzTarget target, FuzzSettings settings, long number, byte[] input, string finding)
    {
        Directory.CreateDirectory(settings.FailureDirectory);
        var path = Path.Join(settings.FailureDirectory, $"{target.Name}-seed{settings.Seed}-input{number}.bin");
        File.WriteAllBytes(path, input);
        return $"fuzz target {target.Name}, seed {settings.Seed} (OM_FUZZ_SEED), input #{number}: {finding}\n" +
               $"input ({input.Length} bytes) saved to {path}; to keep it as a regression copy it to " +
               $"tests/OpenMosix.Fuzz.Tests/Corpus/{target.Name}/crash-NAME\nhex: {Oracle.Hex(input)}";
    }
}
