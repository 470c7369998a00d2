namespace OpenMosix.TestSupport;

/// <summary>
/// For claims that hold only while a process's ids stay free between its end and its restore ("gets its pid back
/// when it is free"). No test controls that: with pid_max at 32768, a busy suite (the lab tests start processes in
/// parallel) wraps the ids in seconds, and an id handed out meanwhile is rightly not given back. The scenario is run
/// again, a few times at most, until one run found its ids free; a restorer that never gives ids back fails them all.
/// </summary>
public static class FreeIds
{
    /// <param name="attempt">One whole run of the scenario, asserting what must hold anyway; null when the ids came
    /// back, else what it got instead.</param>
    public static void HoldInOneOf(int attempts, Func<string?> attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var misses = new List<string>();
        for (var i = 0; i < attempts; i++)
        {
            if (attempt() is not { } miss) return;
            misses.Add(miss);
        }
        throw new InvalidOperationException($"the ids never came back in {attempts} runs: {string.Join("; ", misses)}");
    }
}
