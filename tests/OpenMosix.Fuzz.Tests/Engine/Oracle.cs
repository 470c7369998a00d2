using System.Text;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>Judges an <see cref="Outcome"/>: null when the input was handled as documented, else what went wrong.</summary>
public static class Oracle
{
    public static string? Judge(FuzzTarget target, Outcome outcome, FuzzSettings settings)
    {
        if (outcome.TimedOut) return $"the input ran for more than {settings.InputTimeLimit.TotalSeconds:F0} s (a hang or a loop)";
        if (outcome.Allocated > settings.AllocationLimit)
            return $"the input allocated {outcome.Allocated >> 20} MiB (limit {settings.AllocationLimit >> 20} MiB)";
        if (outcome.Error is not { } error) return null;
        if (error is PropertyViolation) return $"an accepted input broke a property: {error.Message}";
        if (!target.Refusals.Contains(error.GetType()))
            return $"{error.GetType().Name} escaped (documented: {string.Join(", ", target.Refusals.Select(t => t.Name))}): {error}";
        if (string.IsNullOrWhiteSpace(error.Message)) return $"{error.GetType().Name} with an empty message";
        if (target.OneLineRefusals && (error.Message.Contains('\n', StringComparison.Ordinal) || error.Message.Contains('\r', StringComparison.Ordinal)))
            return $"{error.GetType().Name} with a message of more than one line: {error.Message}";
        return null;
    }

    /// <summary>The class of a refusal for the run's summary: its type and message up to the first digit or quote.</summary>
    public static string Kind(Exception error)
    {
        var message = error.Message;
        var cut = message.IndexOfAny(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '\'', '(', ':']);
        return $"{error.GetType().Name}: {(cut > 0 ? message[..cut] : message)}".TrimEnd();
    }

    public static string Hex(byte[] data, int limit = 4096)
    {
        var shown = Convert.ToHexString(data, 0, Math.Min(data.Length, limit)).ToLowerInvariant();
        var text = new StringBuilder(shown);
        if (data.Length > limit) text.Append(System.Globalization.CultureInfo.InvariantCulture, $"... ({data.Length} bytes in all, see the file)");
        return text.ToString();
    }
}
