using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// Python callables on .NET executors: Python's <c>executor.submit(fn, *args, **kwargs)</c> and
/// <c>executor.map(fn, iterable)</c> called from C#, with the result converted to a .NET type.
/// </summary>
/// <remarks>
/// The interpreter must be running (<see cref="PythonRuntime.Start"/>). Use an executor made by
/// <see cref="PythonRuntime.CreateExecutor"/> (or with <see cref="PythonRuntime.ExecutorOptions"/>)
/// so that its workers keep their Python thread state between tasks; any other executor works, at
/// the cost of a thread state per task. Arguments are converted when the task runs, not when it is
/// submitted; the conversions are those of <see cref="PythonConvert"/>. A Python exception becomes
/// <see cref="PythonRaisedException"/> (the Python type name, message, traceback and the exception
/// object); a result that does not convert, <see cref="InvalidCastException"/>. Keep
/// the callable undisposed until its tasks have run. Python and C# work can share one
/// executor, and <see cref="Futures.Wait"/> and <see cref="Futures.AsCompleted"/> accept both kinds of
/// future.
/// </remarks>
public static class PythonExecutorExtensions
{
    /// <summary>Schedules <c>fn(*args)</c>: Python's <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>); <see cref="object"/>
    /// for the natural type, <see cref="PyObject"/> for the Python object itself.</typeparam>
    /// <param name="executor">The executor.</param>
    /// <param name="fn">A Python callable (from <see cref="PythonRuntime.GetCallable"/>).</param>
    /// <param name="args">The positional arguments, .NET values converted when the task runs.</param>
    /// <returns>The future of the converted result.</returns>
    /// <exception cref="InvalidOperationException">The executor was shut down.</exception>
    public static Future<T> SubmitPython<T>(this Executor executor, PyObject fn, params object?[] args) =>
        SubmitPython<T>(executor, fn, args, kwargs: null);

    /// <summary>Schedules <c>fn(*args, **kwargs)</c>: Python's <c>executor.submit(fn, *args, **kwargs)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result.</typeparam>
    /// <param name="executor">The executor.</param>
    /// <param name="fn">A Python callable.</param>
    /// <param name="args">The positional arguments.</param>
    /// <param name="kwargs">The keyword arguments, or <c>null</c>.</param>
    /// <returns>The future of the converted result.</returns>
    public static Future<T> SubmitPython<T>(this Executor executor, PyObject fn, object?[] args,
        IReadOnlyDictionary<string, object?>? kwargs)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(args);
        var future = new Future<T>();
        executor.SubmitWorkItem(new PythonWorkItem<T>(future, fn, args, kwargs));
        return future;
    }

    /// <summary>
    /// Applies a one-argument Python callable to every input: Python's <c>executor.map(fn, iterable)</c>.
    /// All work is submitted at once; results come in input order; taking a result rethrows its
    /// exception; stopping early cancels the rest.
    /// </summary>
    /// <typeparam name="TSource">The .NET type of the inputs.</typeparam>
    /// <typeparam name="TResult">The .NET type of the results.</typeparam>
    /// <param name="executor">The executor.</param>
    /// <param name="fn">A Python callable.</param>
    /// <param name="items">The inputs.</param>
    /// <param name="timeout">The longest wait for all results, counted from this call.</param>
    public static IEnumerable<TResult> MapPython<TSource, TResult>(this Executor executor, PyObject fn,
        IEnumerable<TSource> items, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(fn);
        return Map(item => executor.SubmitPython<TResult>(fn, item), items, timeout);
    }

    /// <summary>Python's <c>map</c> over any submit: every item submitted now, the results in input order
    /// (<see cref="Results{TResult}"/>) within <paramref name="timeout"/>, counted from this call.</summary>
    internal static IEnumerable<TResult> Map<TSource, TResult>(Func<TSource, Future<TResult>> submit,
        IEnumerable<TSource> items, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(items);
        var futures = items.Select(submit).ToList();
        return Results(futures, Deadline.After(timeout));
    }

    /// <summary>The results of <paramref name="futures"/> in order; the rest are cancelled when the
    /// caller stops early.</summary>
    internal static IEnumerable<TResult> Results<TResult>(List<Future<TResult>> futures, Deadline deadline)
    {
        int taken = 0;
        try
        {
            for (; taken < futures.Count; taken++)
            {
                TimeSpan? left = deadline.IsNever ? null : deadline.Remaining; // monotonic, as Python's map
                yield return futures[taken].Result(left);
            }
        }
        finally
        {
            for (int i = taken; i < futures.Count; i++)
            {
                futures[i].Cancel();
            }
        }
    }

}
