using System.Text;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>Judges an <see cref="Outcome"/>: null when the input was handled as documented, else what went wrong.</summary>
public static class Oracle
{
    public static string? Judge(FuzzTarget target, Outcome outcome, FuzzSettings settings)
    {
        if (outcome.TimedOut) return $"the input ran for more than {settings.InputTimeLimit.TotalSeconds:F0} s (a hang or a loop)";
        var limit = target.AllocationLimit ?? settings.AllocationLimit;
        if (outcome.Allocated > limit)
            return $"the input allocated {outcome.Allocated >> 20} MiB (limit {limit >> 20} MiB)";
        if (outcome.Error is not { } error) return null;
        if (error is PropertyViolation) return $"an accepted input broke a property: {error.Message}";
        if (!target.Refusals.Contains(error.GetType()))
            return $"{error.GetType().Name} escaped (documented: {string.Join(", ", target.Refusals.Select(t => t.Name))}): {error}";
        if (string.IsNullOrWhiteSpace(error.Message)) return $"{error.GetType().Name} with an empty message";
        if (target.OneLineRefusals && (error.Message.Contains('\n', StringComparison.Ordinal) || error.Message.Contains('\r', StringComparison.Ordinal)))
            return $"{error.GetType().Name} with a message of more than one line: {error.Message}";
        return null;
    }

    /// <summary>The class of a refusal for the run's summary: its type and message with numbers and quoted text
    /// blanked, cut at 70 characters.</summary>
    public static string Kind(Exception error)
    {
        var message = System.Text.RegularExpressions.Regex.Replace(error.Message, @"'[^']*'|\([^)]*\)|0x[0-9a-f]+|[0-9]+", "#");
        return $"{error.GetType().Name}: {(message.Length > 70 ? message[..70] : message)}";
    }

    public static string Hex(byte[] data, int limit = 4096)
    {
        var shown = Convert.ToHexString(data, 0, Math.Min(data.Length, limit)).ToLowerInvariant();
        var text = new StringBuilder(shown);
        if (data.Length > limit) text.Append(System.Globalization.CultureInfo.InvariantCulture, $"... ({data.Length} bytes in all, see the file)");
        return text.ToString();
    }
}
