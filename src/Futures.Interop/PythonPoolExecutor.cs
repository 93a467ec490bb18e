using CsFutures.Interop.Runtime;
using CsFutures.Telemetry;
using Python.Runtime;

namespace CsFutures.Interop;

/// <summary>
/// What every pool of Python callables for a .NET host offers, whatever runs the calls (worker processes,
/// subinterpreters, a cluster): Python's <c>Executor</c> (<c>submit</c>, <c>map</c>, <c>shutdown</c>, the
/// context manager as <see cref="IDisposable"/>) for Python callables, plus the pool's name and
/// <see cref="Stats"/>. The base of <see cref="Processes.PythonProcessPoolExecutor"/>,
/// <see cref="Interpreters.PythonInterpreterPoolExecutor"/> and <c>PythonClusterExecutor</c> (package
/// CsFutures.Interop.Cluster).
/// </summary>
public abstract class PythonPoolExecutor : IDisposable, IAsyncDisposable
{
    private int _released;

    private protected PythonPoolExecutor()
    {
    }

    /// <summary>The pool's name (<see cref="PythonPoolOptions.Name"/>, or the engine's default).</summary>
    public abstract string Name { get; }

    /// <summary>What the pool has done so far (tasks submitted, completed, failed, cancelled, queued; its
    /// workers): Python's <c>executor.stats()</c> in cs_futures (CPython has none).</summary>
    public abstract ExecutorStats Stats();

    /// <summary>Schedules <c>fn(*args)</c> on a worker: Python's <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>).</typeparam>
    /// <param name="fn">A Python callable that pickles by reference (a module-level function).</param>
    /// <param name="args">The arguments, .NET values converted and pickled now.</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    /// <exception cref="BrokenExecutorException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public abstract Future<T> SubmitPython<T>(PyObject fn, params object?[] args);

    /// <summary>Python's <c>executor.map(fn, iterable)</c>: results in input order.</summary>
    /// <exception cref="TimeoutException">A result is not ready when <paramref name="timeout"/> (from now) passes.</exception>
    public IEnumerable<TResult> MapPython<TSource, TResult>(PyObject fn, IEnumerable<TSource> items, TimeSpan? timeout = null) =>
        PythonExecutorExtensions.Map(item => SubmitPython<TResult>(fn, item), items, timeout);

    /// <summary>Python's <c>shutdown(wait, cancel_futures)</c>: with <paramref name="wait"/>, returns once
    /// every task has finished and the workers are gone.</summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        if (wait)
        {
            ShutdownEngine(cancelFutures);
            Release();
        }
        else
        {
            // What the workers use (their files) goes once the last one has exited.
            _ = ShutdownEngineAsync(cancelFutures).ContinueWith(_ => Release(), TaskScheduler.Default);
        }
    }

    /// <summary>Shuts down and waits: Python's <c>with</c> block ending.</summary>
    public void Dispose()
    {
        Shutdown(wait: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Shuts down and awaits the workers' exit.</summary>
    public async ValueTask DisposeAsync()
    {
        await ShutdownEngineAsync(cancelFutures: false).ConfigureAwait(false);
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Shuts the engine down and waits for its tasks and workers.</summary>
    private protected abstract void ShutdownEngine(bool cancelFutures);

    /// <summary>Shuts the engine down; completes once its tasks and workers are done.</summary>
    private protected abstract Task ShutdownEngineAsync(bool cancelFutures);

    /// <summary>Releases what the workers used (the private worker package), once they are gone.</summary>
    private protected virtual void ReleaseResources()
    {
    }

    // Once, however many shutdowns and disposals (a container that registered the pool under two service
    // types disposes it twice).
    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            ReleaseResources();
        }
    }
}
