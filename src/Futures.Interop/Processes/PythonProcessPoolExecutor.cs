using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;
using Python.Runtime;
using CsFutures.Interop.Threads;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace CsFutures.Interop.Processes;

/// <summary>
/// Python's <c>concurrent.futures.ProcessPoolExecutor</c> for a .NET application that hosts Python:
/// Python callables run in worker processes (fresh interpreters of the same installation, with the
/// host's <c>sys.path</c>), so CPU-bound Python work runs in parallel, free of the host's GIL.
/// </summary>
/// <remarks>
/// Calls are pickled in the host (the callable by reference, as <c>module.name</c>: use
/// <see cref="PythonRuntime.GetCallable"/>), sent by the engine's <see cref="ProcessPoolExecutor"/>
/// and the reply is unpickled and converted with <see cref="PythonConvert"/>. A Python exception in
/// the worker becomes <see cref="PythonRaisedException"/> whose traceback includes the worker's; a
/// dead worker, <see cref="BrokenProcessPoolException"/>; a task over its time limit,
/// <see cref="TimeoutException"/>. The interpreter must be running (<see cref="PythonRuntime.Start"/>).
/// </remarks>
public sealed class PythonProcessPoolExecutor : PythonPoolExecutor
{
    private readonly PythonWorkerHost _host;

    /// <summary>Prepares the pool; workers start on the first submit.</summary>
    /// <exception cref="PythonRaisedException">The initializer cannot be pickled, or no python
    /// executable was found for the workers.</exception>
    public PythonProcessPoolExecutor(PythonRuntime runtime, PythonProcessPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        options ??= new PythonProcessPoolOptions();
        _host = new PythonWorkerHost(WorkerPackage.Extract(), ownsPackage: true, options.PythonExecutable,
            options.Initializer, options.InitializerArguments);
        try
        {
            Engine = new ProcessPoolExecutor(_host.PoolOptions(options) with
            {
                MaxTasksPerChild = options.MaxTasksPerChild,
                TaskTimeout = options.TaskTimeout,
                IsolateCrashes = options.IsolateCrashes,
                ReaderStarted = PythonThreads.MarkWorker, // decoding replies keeps one thread state
                ReaderStopping = PythonThreads.Detach,
                RunBlocking = WithoutGil.Run,
            });
        }
        catch
        {
            _host.Dispose();
            throw;
        }
    }

    /// <summary>The engine pool underneath (workers, <see cref="ProcessPoolExecutor.Broken"/>, ...).</summary>
    public ProcessPoolExecutor Engine { get; }

    /// <inheritdoc/>
    public override string Name => Engine.Name;

    /// <summary>What the pool has done so far: <see cref="ProcessPoolExecutor.Stats"/> (Python's
    /// <c>executor.stats()</c> in cs_futures).</summary>
    public override ExecutorStats Stats() => Engine.Stats();

    /// <summary>Schedules <c>fn(*args)</c> in a worker process: Python's <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>).</typeparam>
    /// <param name="fn">A Python callable that pickles by reference (a module-level function).</param>
    /// <param name="args">The arguments, .NET values converted and pickled now.</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public override Future<T> SubmitPython<T>(PyObject fn, params object?[] args) => Submit<T>(fn, args, null);

    /// <summary>As <see cref="SubmitPython{T}(PyObject, object?[])"/>, with its own time limit
    /// (beyond CPython: the worker is killed when it passes, and the future fails with
    /// <see cref="TimeoutException"/>).</summary>
    public Future<T> SubmitPython<T>(TimeSpan timeout, PyObject fn, params object?[] args) => Submit<T>(fn, args, timeout);

    private protected override void ShutdownEngine(bool cancelFutures) => Engine.Shutdown(wait: true, cancelFutures);

    private protected override Task ShutdownEngineAsync(bool cancelFutures) => Engine.ShutdownAsync(cancelFutures);

    private protected override void ReleaseResources() => _host.Dispose();

    private Future<T> Submit<T>(PyObject fn, object?[] args, TimeSpan? timeout)
    {
        var item = _host.WorkItem<T>(fn, args, timeout);
        Engine.SubmitWorkItem(item);
        return item.Typed;
    }

    /// <summary>The host helpers (<c>_host.py</c>) of the private worker package <paramref name="package"/>,
    /// imported in the host's interpreter (the GIL held).</summary>
    internal static PyObject LoadHostModule(WorkerPackage package)
    {
        using PyObject util = PythonCall.Own(PyApi.Import("importlib.util"));
        var scope = new PyDict();
        scope["util"] = util;
        scope["name"] = new PyString(WorkerPackage.Name);
        scope["path"] = new PyString(package.PackageDirectory);
        PythonCall.Translating(() =>
        {
            PythonEngine.Exec(
                "import importlib, os, sys\n"
                + "if name not in sys.modules:\n"
                + "    spec = util.spec_from_file_location(name, os.path.join(path, '__init__.py'),\n"
                + "                                        submodule_search_locations=[path])\n"
                + "    package = util.module_from_spec(spec)\n"
                + "    sys.modules[name] = package\n"
                + "    spec.loader.exec_module(package)\n"
                + "host = importlib.import_module(name + '._host')\n",
                scope);
            return scope;
        });
        return scope.GetItem("host");
    }
}
