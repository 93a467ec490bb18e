using Microsoft.Extensions.Logging;
using Python.Runtime;

namespace CsFutures.Interop.Interpreters;

/// <summary>
/// How a <see cref="PythonInterpreterPoolExecutor"/> runs: Python 3.14's
/// <c>InterpreterPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)</c>.
/// </summary>
public sealed class PythonInterpreterPoolOptions
{
    /// <summary>The most worker threads (one isolated interpreter each): Python's <c>max_workers</c>;
    /// <c>null</c> for <c>min(32, processors + 4)</c>, as Python's default.</summary>
    public int? MaxWorkers { get; init; }

    /// <summary>The worker threads' name prefix: Python's <c>thread_name_prefix</c>.</summary>
    public string? ThreadNamePrefix { get; init; }

    /// <summary>A Python callable run in each worker's interpreter before its first task (pickled, by
    /// reference): Python's <c>initializer</c>. When it raises, the pool is broken
    /// (<see cref="BrokenInterpreterPoolException"/>).</summary>
    public PyObject? Initializer { get; init; }

    /// <summary>The initializer's arguments (.NET values, converted as for
    /// <see cref="Runtime.PythonConvert"/>): Python's <c>initargs</c>.</summary>
    public IReadOnlyList<object?> InitializerArguments { get; init; } = [];

    /// <summary>Where the pool logs a failing initializer; <see cref="FuturesLogging.Logger"/> when null.</summary>
    public ILogger? Logger { get; init; }
}
