using Microsoft.Extensions.Logging;

namespace Futures.Native.Tests;

/// <summary>Collects log entries, to check what the engine logs where CPython logs.</summary>
internal sealed class CapturingLogger : ILogger
{
    public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries)
        {
            Entries.Add((logLevel, formatter(state, exception), exception));
        }
    }
}

internal static class Waits
{
    /// <summary>Long enough for any correct run; a bug fails the test instead of hanging it.</summary>
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    public static Future<T> Pending<T>() => new();

    public static Future<int> Finished(int value)
    {
        var f = new Future<int>();
        f.SetResult(value);
        return f;
    }

    public static Future<int> Failed(Exception ex)
    {
        var f = new Future<int>();
        f.SetException(ex);
        return f;
    }

    public static Future<int> CancelledAndNotified()
    {
        var f = new Future<int>();
        f.Cancel();
        f.SetRunningOrNotifyCancel();
        return f;
    }
}
