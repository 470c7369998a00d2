namespace OpenMosix.TestSupport;

/// <summary>What a terminal received from om (script(1)'s record of it), read the way a user saw it.</summary>
public static class TerminalScreen
{
    /// <summary>
    /// Why <paramref name="screen"/> does not show a progress line starting with <paramref name="progress"/> and
    /// giving a rate, erased (carriage return, erase line) before <paramref name="result"/>; null when it does.
    /// </summary>
    public static string? ProgressErasedBeforeResult(string screen, string progress, string result)
    {
        ArgumentNullException.ThrowIfNull(screen);
        var shown = screen.IndexOf(progress, StringComparison.Ordinal);
        if (shown < 0) return $"no progress line on the terminal: {screen}";
        if (!screen[shown..].Contains(" MiB/s", StringComparison.Ordinal)) return $"the progress line gives no rate: {screen}";
        var erased = screen.IndexOf("\r\e[K", shown, StringComparison.Ordinal);
        var done = screen.IndexOf(result, StringComparison.Ordinal);
        return erased > shown && done > erased ? null : $"the progress line was not erased before the result: {screen}";
    }
}
