using Microsoft.Extensions.Logging;

namespace Futures.Native.Tests;

/// <summary>Collects log entries, to check what the engine logs where CPython logs.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> _entries = new();

    /// <summary>Runs inside <see cref="Log{TState}"/> after the entry is recorded (to hold a thread there).</summary>
    public Action? OnLog { get; init; }

    public List<(LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToList();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception), exception));
        }
        OnLog?.Invoke();
    }
}

internal static class Waits
{
    /// <summary>Long enough for any correct run; a bug fails the test instead of hanging it.</summary>
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>For joins that only fail on a bug (deadlock): shorter, to keep a failing run short.</summary>
    public static readonly TimeSpan Join = TimeSpan.FromSeconds(10);

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

    public static Future<int> Running()
    {
        var f = new Future<int>();
        f.SetRunningOrNotifyCancel();
        return f;
    }

    public static Future<int> Cancelled()
    {
        var f = new Future<int>();
        f.Cancel();
        return f;
    }

    public static Future<int> CancelledAndNotified()
    {
        var f = new Future<int>();
        f.Cancel();
        f.SetRunningOrNotifyCancel();
        return f;
    }

    /// <summary>Waits until <paramref name="thread"/> blocks (in a wait, a join or on a lock). Used
    /// only where the engine offers no event to observe that it blocked.</summary>
    public static void UntilBlocked(Thread thread)
    {
        bool blocked = SpinWait.SpinUntil(() => (thread.ThreadState & ThreadState.WaitSleepJoin) != 0, Long);
        Assert.That(blocked, Is.True, $"thread {thread.Name} never blocked");
    }

    /// <summary>Runs one task on each of the pool's <paramref name="workers"/> workers at once, so
    /// that every thread is started (submits then queue without the pool's lock).</summary>
    public static void StartEveryWorker(ThreadPoolExecutor executor, int workers)
    {
        using var all = new CountdownEvent(workers);
        var fs = Enumerable.Range(0, workers).Select(_ => executor.Submit(() =>
        {
            all.Signal();
            return all.Wait(Long);
        })).ToList();
        Assert.That(fs.All(f => f.Result(Long)), Is.True);
        Assert.That(executor.Threads, Has.Count.EqualTo(workers));
    }

    /// <summary>Starts a background thread (a deadlocked one cannot keep the test host alive).</summary>
    public static Thread Start(Action body, string? name = null)
    {
        var t = new Thread(() => body()) { IsBackground = true, Name = name };
        t.Start();
        return t;
    }

    /// <summary>Collects until <paramref name="weak"/> is dead or a few rounds passed.</summary>
    public static bool Collected(WeakReference weak)
    {
        for (int i = 0; i < 5 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        return !weak.IsAlive;
    }
}
