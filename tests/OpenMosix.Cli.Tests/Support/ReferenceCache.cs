using System.Collections.Concurrent;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// Uninterrupted reference runs, computed once per key (program + arguments + input) for the whole test run, so tests
/// that checkpoint the same program several times pay for its reference only once.
/// </summary>
internal static class ReferenceCache
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<ProgramOutcome>>> Outcomes = new();

    public static Task<ProgramOutcome> GetAsync(string key, Func<Task<ProgramOutcome>> run) =>
        Outcomes.GetOrAdd(key, _ => new Lazy<Task<ProgramOutcome>>(run)).Value;
}
