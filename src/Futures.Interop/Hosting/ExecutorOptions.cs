namespace CsFutures.Interop.Hosting;

/// <summary>
/// A named executor registered with <c>AddExecutor</c> (bound from configuration, e.g.
/// <c>"Executors": { "python": { "MaxWorkers": 4, "ThreadNamePrefix": "py" } }</c>): Python's
/// <c>ThreadPoolExecutor(max_workers, thread_name_prefix)</c> plus what happens at host stop.
/// </summary>
public sealed class ExecutorOptions
{
    /// <summary>The most worker threads (Python's <c>max_workers</c>); <c>null</c> for
    /// <c>min(32, processors + 4)</c>.</summary>
    public int? MaxWorkers { get; set; }

    /// <summary>Names the threads <c>{prefix}_{n}</c> (Python's <c>thread_name_prefix</c>); by default the
    /// executor's name.</summary>
    public string? ThreadNamePrefix { get; set; }

    /// <summary>At host stop, cancel the work that has not started (Python's
    /// <c>shutdown(cancel_futures=True)</c>) instead of draining it. Running work always finishes,
    /// within the host's shutdown timeout. Default false (drain).</summary>
    public bool CancelPendingOnStop { get; set; }

    /// <summary>Give the workers the Python thread hooks (<see cref="Runtime.PythonRuntime.ExecutorOptions"/>).
    /// Default true; false for an executor that only runs .NET work.</summary>
    public bool Python { get; set; } = true;
}
