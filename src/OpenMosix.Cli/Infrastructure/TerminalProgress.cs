using System.Diagnostics;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>
/// Bytes done and the rate, on one line of stderr rewritten in place, while a long checkpoint, restore or migration runs: only
/// when stderr is a terminal (a script reading stderr sees nothing of it), at most ten times a second, and erased
/// once the work ends, so the result line stands alone. Reported from the engine's tracer thread: it only formats
/// and writes, never waits.
/// </summary>
internal sealed class TerminalProgress : IProgress<ulong>, IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);
    private readonly string _what;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private TimeSpan _shown = -Every;
    private bool _drawn;

    private TerminalProgress(string what) => _what = what;

    /// <summary>A progress line for <paramref name="what"/> when stderr is a terminal, else null (nothing shown).</summary>
    public static TerminalProgress? OnTerminal(string what) => Console.IsErrorRedirected ? null : new TerminalProgress(what);

    public void Report(ulong value) => Report(value, null);

    /// <summary>Bytes done so far, and the stage the work is at (shown after what it is) when it has stages.</summary>
    public void Report(ulong value, string? stage)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (now - _shown < Every) return;
            _shown = now;
            var mib = value / 1048576.0;
            var rate = now.TotalSeconds > 0 ? mib / now.TotalSeconds : 0;
            var what = stage is null ? _what : $"{_what}, {stage}";
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r\e[Kom: {what}: {mib:F1} MiB, {rate:F0} MiB/s"));
            _drawn = true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
            if (_drawn) Console.Error.Write("\r\e[K");
    }
}
