using System.Text;

namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>What the person at mosmon chose: the bars' mode, whether dead nodes have a column, and the first node shown.</summary>
internal sealed record MonitorState(MonitorMode Mode = MonitorMode.Load, bool ShowDead = true, int FirstColumn = 0);

/// <summary>
/// One screen of mosmon, as plain lines of at most <c>width</c> characters: a vertical bar per node, as the
/// original drew them, the mode's scale on the left, node ids and values below, the keys at the bottom. A pure
/// function of what omd said, so it is tested without a terminal and the same frame serves `--once`.
/// </summary>
internal static class MonitorFrame
{
    public const int MinWidth = 30, MinHeight = 10;
    private const string Partial = " ▁▂▃▄▅▆▇";
    private const char Full = '█', Outline = '░';
    private const string Keys = "l)oad s)peed m)emory u)til d)ead nodes <-/-> scroll q)uit";

    /// <param name="view">omd's view of the cluster, or null when it could not be asked (<paramref name="error"/> says why).</param>
    public static IReadOnlyList<string> Render(ClusterView? view, string? error, MonitorState state, int width, int height, DateTime now)
    {
        if (width < MinWidth || height < MinHeight)
            return [Fit($"mosmon needs at least {MinWidth}x{MinHeight}, this terminal is {width}x{height}", width)];
        var nodes = view is null ? [] : view.Nodes.Where(n => state.ShowDead || IsUp(n)).OrderBy(n => n.Id).ToList();
        var up = nodes.Where(IsUp).ToList();
        var lines = new List<string>(height);
        var clock = now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var title = view is null
            ? $"mosmon · {state.Mode.Title()}"
            : $"mosmon · {state.Mode.Title()} · node {view.Self} · {view.Nodes.Count} nodes, {view.Nodes.Count(n => !IsUp(n))} not up";
        lines.Add(Fit(title.PadRight(Math.Max(0, width - clock.Length - 1)) + " " + clock, width));
        lines.Add(Fit(error is null ? "" : $"cannot ask omd: {error}", width));

        var top = state.Mode.Top(up);
        var labelWidth = new[] { state.Mode.Label(top), state.Mode.Label(top / 2), state.Mode.Label(0) }.Max(l => l.Length);
        var values = nodes.Select(n => IsUp(n) ? state.Mode.Label(state.Mode.Value(n)) : n.State.Name()).ToList();
        var ids = nodes.Select(n => n.Id.ToString(CultureInfo.InvariantCulture) + (n.IsSelf ? "*" : "")).ToList();
        var columnWidth = Math.Max(4, ids.Concat(values).Select(s => s.Length).DefaultIfEmpty(0).Max()) + 1;
        var barWidth = Math.Min(columnWidth - 1, 6);
        var fit = Math.Max(1, (width - labelWidth - 3) / columnWidth);
        var first = Math.Clamp(state.FirstColumn, 0, Math.Max(0, nodes.Count - fit));
        var shown = Enumerable.Range(first, Math.Min(fit, nodes.Count - first)).ToList();
        var plotHeight = height - 6;

        for (var row = 0; row < plotHeight; row++)
        {
            var level = plotHeight - row;
            var label = row == 0 ? state.Mode.Label(top) : row == plotHeight / 2 ? state.Mode.Label(top / 2) : "";
            var line = new StringBuilder(label.PadLeft(labelWidth)).Append(" |");
            foreach (var i in shown)
                line.Append(Cell(nodes[i], state.Mode, top, plotHeight, level, barWidth).PadRight(columnWidth));
            lines.Add(Fit(line.ToString().TrimEnd(), width));
        }
        var axis = new StringBuilder(state.Mode.Label(0).PadLeft(labelWidth)).Append(first > 0 ? " <" : " +");
        axis.Append('-', shown.Count * columnWidth);
        if (first + shown.Count < nodes.Count) axis.Append('>');
        lines.Add(Fit(axis.ToString(), width));
        lines.Add(Fit(new string(' ', labelWidth + 2) + string.Concat(shown.Select(i => Center(ids[i], barWidth).PadRight(columnWidth))), width));
        lines.Add(Fit(new string(' ', labelWidth + 2) + string.Concat(shown.Select(i => Center(values[i], barWidth).PadRight(columnWidth))), width));
        if (nodes.Count == 0) lines[^1] = Fit(view is null ? "no answer from omd yet" : "no nodes to show (d shows dead ones)", width);
        lines.Add(Fit(Keys + (state.ShowDead ? "" : " [dead hidden]"), width));
        return lines;
    }

    /// <summary>A node counts as up while gossip hears it (alive, or suspect for a moment); dead and unknown ones have no bar.</summary>
    public static bool IsUp(NodeRow node) => node.State is NodeLiveness.Alive or NodeLiveness.Suspect;

    /// <summary>One row of a node's column: full blocks below its value, an eighth-block at its top, the outline above.</summary>
    private static string Cell(NodeRow node, MonitorMode mode, double top, int plotHeight, int level, int barWidth)
    {
        if (!IsUp(node)) return level == 1 ? Center("x", barWidth) : "";
        var filled = Math.Clamp(mode.Value(node) / top, 0, 1) * plotHeight;
        var outline = mode.Outline(node) is { } o ? Math.Clamp(o / top, 0, 1) * plotHeight : 0;
        char c;
        if (filled >= level) c = Full;
        else if (filled > level - 1 && Partial[(int)((filled - (level - 1)) * 8)] is var p && p != ' ') c = p;
        else if (outline > level - 1) c = Outline;
        else c = ' ';
        return new string(c, barWidth);
    }

    private static string Center(string text, int width) =>
        text.Length >= width ? text : new string(' ', (width - text.Length) / 2) + text;

    private static string Fit(string line, int width) => line.Length <= width ? line : line[..width];
}
