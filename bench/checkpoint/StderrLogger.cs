using Microsoft.Extensions.Logging;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>
/// The engine's debug log on stderr, with OM_BENCH_DEBUG=1: its phase timings (state read and injected, pages
/// stored, a restore's layout, page phase and waits) are the breakdown of each measured dump and restore.
/// </summary>
internal sealed class StderrLoggerProvider : ILoggerProvider
{
    public static ILoggerFactory? FromEnvironment() =>
        Environment.GetEnvironmentVariable("OM_BENCH_DEBUG") == "1" ? LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new StderrLoggerProvider())) : null;

    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose() { }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Console.Error.WriteLine($"    [{category}] {formatter(state, exception)}");
    }
}
