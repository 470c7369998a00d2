namespace OpenMosix.Daemon.Web;

/// <summary>
/// omd's own loggers for the web listener, with ASP.NET Core's chatter (a line per request, "now listening", the
/// hosting lifetime) held to warnings: omd logs what it does, not each scrape.
/// </summary>
internal sealed class QuietLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName.StartsWith("Microsoft.", StringComparison.Ordinal) ? new WarningsOnly(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The factory is omd's, disposed by it; the web host must not.</summary>
    public void Dispose()
    {
    }

    private sealed class WarningsOnly(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
