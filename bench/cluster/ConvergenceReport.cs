using System.Globalization;

namespace OpenMosix.Bench.Cluster;

/// <summary>Median and worst over seeds per size, with rounds / log2 N beside each spread so O(log N) shows as a flat column.</summary>
internal static class ConvergenceReport
{
    public static void Print(TextWriter output, IReadOnlyList<ConvergenceResult> results, bool markdown)
    {
        var header = new[]
        {
            "nodes", "seeds", "membership rounds", "load change rounds (med/max)", "÷ log2 N", "join rounds (med/max)",
            "÷ log2 N", "dead seen by all (med/max)", "suspect / dead timeouts", "stalest live entry", "packets/node/s", "bytes/node/s",
        };
        var lines = results.GroupBy(r => r.Size).Select(group =>
        {
            var runs = group.ToList();
            var log = Math.Log2(group.Key);
            var options = runs[0].Options;
            var deaths = runs.Where(r => r.DeathSeen is not null).Select(r => r.DeathSeen!.Value.TotalSeconds).ToList();
            return new[]
            {
                group.Key.ToString(CultureInfo.InvariantCulture),
                runs.Count.ToString(CultureInfo.InvariantCulture),
                Spread(runs.Select(r => (double)r.MembershipRounds)),
                Spread(runs.Select(r => (double)r.LoadRounds)),
                Ratio(runs.Select(r => (double)r.LoadRounds), log),
                Spread(runs.Select(r => (double)r.JoinRounds)),
                Ratio(runs.Select(r => (double)r.JoinRounds), log),
                deaths.Count == 0 ? "–" : Spread(deaths) + " s",
                $"{Seconds(options.SuspectAfter)} / {Seconds(options.DeadAfter)} s",
                Seconds(runs.Max(r => r.StalestLiveEntry)) + " s",
                runs.Select(r => r.PacketsPerNodeSecond).Average().ToString("F2", CultureInfo.InvariantCulture),
                runs.Select(r => r.BytesPerNodeSecond).Average().ToString("F0", CultureInfo.InvariantCulture),
            };
        }).ToList();
        if (markdown)
        {
            output.WriteLine("| " + string.Join(" | ", header) + " |");
            output.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", header.Length)));
            foreach (var line in lines) output.WriteLine("| " + string.Join(" | ", line) + " |");
        }
        else
        {
            var widths = header.Select((h, i) => Math.Max(h.Length, lines.Max(l => l[i].Length))).ToArray();
            output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
            foreach (var line in lines) output.WriteLine(string.Join("  ", line.Select((c, i) => c.PadLeft(widths[i]))));
        }
        output.WriteLine();
        output.WriteLine("Virtual time, 1 s rounds, fanout 3, real GossipNode and HMAC-authenticated packets; timeouts from " +
                         "GossipOptions.ScaledFor(N); stalest live entry must stay below the suspect timeout (no false suspicion).");
    }

    private static string Spread(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return $"{Number(sorted[sorted.Count / 2])} / {Number(sorted[^1])}";
    }

    private static string Ratio(IEnumerable<double> rounds, double log2) =>
        log2 <= 0 ? "–" : Spread(rounds.Select(r => r / log2).ToList()).Replace(" / ", "–", StringComparison.Ordinal);

    private static string Seconds(TimeSpan t) => Number(t.TotalSeconds);

    private static string Number(double value) =>
        value == Math.Floor(value) ? value.ToString("F0", CultureInfo.InvariantCulture) : value.ToString("F2", CultureInfo.InvariantCulture);
}
