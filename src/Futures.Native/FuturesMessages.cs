namespace CsFutures;

/// <summary>
/// CPython's messages that both the engine and the Python package show (the package reads them from
/// the bridge's description, <c>cs_futures._bridge.MESSAGES</c>): one spelling each, here.
/// </summary>
public static class FuturesMessages
{
    /// <summary><c>RuntimeError</c> (here <see cref="InvalidOperationException"/>) from <c>submit</c>
    /// after <c>shutdown</c>.</summary>
    public const string SubmitAfterShutdown = "cannot schedule new futures after shutdown";

    /// <summary><c>ValueError</c> from an executor given <c>max_workers &lt;= 0</c>.</summary>
    public const string MaxWorkersNotPositive = "max_workers must be greater than 0";

    /// <summary><c>ValueError</c> from <c>map(..., buffersize=0)</c>.</summary>
    public const string BuffersizeNotPositive = "buffersize must be None or > 0";

    /// <summary><c>ValueError</c> from a process pool given <c>max_tasks_per_child &lt; 1</c>.</summary>
    public const string MaxTasksPerChildNotPositive = "max_tasks_per_child must be >= 1";
}
