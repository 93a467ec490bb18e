using Python.Runtime;
using CsFutures.Processes;

namespace CsFutures.Interop.Processes;

/// <summary>
/// How a <see cref="PythonProcessPoolExecutor"/> runs: Python's
/// <c>ProcessPoolExecutor(max_workers, initializer, initargs, max_tasks_per_child)</c> plus the
/// opt-in behaviours of the engine. <see cref="PythonPoolOptions.MaxWorkers"/> is the most worker
/// processes; <c>null</c> for the number of processors.
/// </summary>
public sealed class PythonProcessPoolOptions : PythonPoolOptions
{
    /// <summary>Python's <c>max_tasks_per_child</c>.</summary>
    public int? MaxTasksPerChild { get; init; }

    /// <summary>A Python callable run in each worker before its first task: Python's <c>initializer</c>.</summary>
    public PyObject? Initializer { get; init; }

    /// <summary>The initializer's arguments (.NET values, converted as for
    /// <see cref="Runtime.PythonConvert"/>): Python's <c>initargs</c>.</summary>
    public IReadOnlyList<object?> InitializerArguments { get; init; } = [];

    /// <summary>The interpreter for the workers; by default the one the host runs (its virtual
    /// environment's, if any).</summary>
    public string? PythonExecutable { get; init; }

    /// <summary>Beyond CPython: see <see cref="ProcessPoolExecutorOptions.TaskTimeout"/>.</summary>
    public TimeSpan? TaskTimeout { get; init; }

    /// <summary>Beyond CPython: see <see cref="ProcessPoolExecutorOptions.IsolateCrashes"/>.</summary>
    public bool IsolateCrashes { get; init; }
}
