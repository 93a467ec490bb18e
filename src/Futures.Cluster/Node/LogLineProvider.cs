using Microsoft.Extensions.Logging;

namespace CsFutures.Cluster.Node;

/// <summary>
/// Writes a host's log entries (Orleans' own) as single lines to a node's log
/// (<see cref="ClusterNodeOptions.Log"/>): <c>orleans LEVEL CATEGORY: MESSAGE (EXCEPTION: MESSAGE)</c>.
/// The node keeps Orleans at <see cref="LogLevel.Warning"/> and above, so that a healthy node stays
/// quiet and a failing one says why.
/// </summary>
internal sealed class LogLineProvider(Action<string> log) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(log, categoryName);

    public void Dispose()
    {
    }

    private sealed class LineLogger(Action<string> log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            string message = formatter(state, exception).ReplaceLineEndings(" ");
            if (message.StartsWith("Note: ", StringComparison.Ordinal) && message.Contains("ServerGC", StringComparison.Ordinal))
            {
                return; // the silo's advice at every start (workstation GC is the runtime's choice here)
            }
            string cause = exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})";
            try
            {
                log($"orleans {logLevel.ToString().ToLowerInvariant()} {category}: {message}{cause}");
            }
            catch (Exception)
            {
                // A log line is never worth a failure (e.g. a closed standard output at exit).
            }
        }
    }
}
