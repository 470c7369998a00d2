namespace OpenMosix.Daemon.Web;

/// <summary>
/// omd's own loggers for the web listener, with ASP.NET Core's chatter (a line per request, "now listening", the
/// hosting lifetime) held to warnings: omd logs what it does, not each scrape. The host's own "Hosting failed to
/// start" (an error with a stack trace) is dropped: <see cref="WebListener"/> says why in one line.
/// </summary>
internal sealed class QuietLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        if (categoryName == "Microsoft.Extensions.Hosting.Internal.Host") return new AtLeast(logger, LogLevel.Critical);
        return categoryName.StartsWith("Microsoft.", StringComparison.Ordinal) ? new AtLeast(logger, LogLevel.Warning) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The factory is omd's, disposed by it; the web host must not.</summary>
    public void Dispose()
    {
    }

    private sealed class AtLeast(ILogger logger, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
