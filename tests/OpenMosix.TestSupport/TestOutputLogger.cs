using Microsoft.Extensions.Logging;

namespace OpenMosix.TestSupport;

/// <summary>Sends engine logs to a test's output (xunit's ITestOutputHelper.WriteLine, passed as a delegate).</summary>
public sealed class TestOutputLoggerFactory(Action<string> writeLine, LogLevel minimum = LogLevel.Debug) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(writeLine, minimum, categoryName[(categoryName.LastIndexOf('.') + 1)..]);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    private sealed class Logger(Action<string> writeLine, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            try
            {
                writeLine($"{logLevel,-11} {category}: {formatter(state, exception)}");
            }
            catch (InvalidOperationException)
            {
                // the test already finished
            }
        }
    }
}
