using Microsoft.Extensions.Logging;

namespace CsFutures.Interop;

/// <summary>
/// What every pool of Python callables for a .NET host takes, whatever runs the calls: the base of
/// <see cref="Processes.PythonProcessPoolOptions"/>, <see cref="Interpreters.PythonInterpreterPoolOptions"/>
/// and <c>PythonClusterOptions</c> (package CsFutures.Interop.Cluster). The pools' own settings are their
/// subclasses'.
/// </summary>
public abstract class PythonPoolOptions
{
    /// <summary>The most workers: Python's <c>max_workers</c>; <c>null</c> for the pool's default (each
    /// subclass says which).</summary>
    public int? MaxWorkers { get; init; }

    /// <summary>The pool's name: <see cref="Telemetry.ExecutorStats.Name"/> and the tag of its metrics and task
    /// spans (CPython's pools have none). A pool registered with <c>AddPython...(name, ...)</c> defaults to its
    /// registration name.</summary>
    public string? Name { get; set; }

    /// <summary>Where the pool logs (worker deaths, a failing initializer); <see cref="FuturesLogging.Logger"/>
    /// when null. A pool registered with the generic host defaults to the host's <c>concurrent.futures</c>
    /// logger.</summary>
    public ILogger? Logger { get; set; }
}
