using Python.Runtime;

namespace CsFutures.Interop.Interpreters;

/// <summary>
/// How a <see cref="PythonInterpreterPoolExecutor"/> runs: Python 3.14's
/// <c>InterpreterPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)</c>.
/// <see cref="PythonPoolOptions.MaxWorkers"/> is the most worker threads (one isolated interpreter each);
/// <c>null</c> for <c>min(32, processors + 4)</c>, as Python's default.
/// </summary>
public sealed class PythonInterpreterPoolOptions : PythonPoolOptions
{
    /// <summary>The worker threads' name prefix: Python's <c>thread_name_prefix</c>; by default
    /// <see cref="PythonPoolOptions.Name"/>, and the pool's name is this prefix.</summary>
    public string? ThreadNamePrefix { get; init; }

    /// <summary>A Python callable run in each worker's interpreter before its first task (pickled, by
    /// reference): Python's <c>initializer</c>. When it raises, the pool is broken
    /// (<see cref="BrokenInterpreterPoolException"/>).</summary>
    public PyObject? Initializer { get; init; }

    /// <summary>The initializer's arguments (.NET values, converted as for
    /// <see cref="Runtime.PythonConvert"/>): Python's <c>initargs</c>.</summary>
    public IReadOnlyList<object?> InitializerArguments { get; init; } = [];
}
