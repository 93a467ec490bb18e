using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;
using Python.Runtime;

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
public sealed class PythonProcessPoolExecutor : IDisposable, IAsyncDisposable
{
    private readonly WorkerPackage _package;
    private readonly PyObject _dumps;
    private readonly PyObject _decode;

    /// <summary>Prepares the pool; workers start on the first submit.</summary>
    /// <exception cref="PythonRaisedException">The initializer cannot be pickled, or no python
    /// executable was found for the workers.</exception>
    public PythonProcessPoolExecutor(PythonRuntime runtime, PythonProcessPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        options ??= new PythonProcessPoolOptions();
        _package = WorkerPackage.Extract();
        try
        {
            using (Gil.Acquire())
            {
                using PyObject host = LoadHostModule(_package);
                _dumps = host.GetAttr("dumps");
                _decode = host.GetAttr("decode");
                using PyObject command = PythonCall.Translating(() => host.InvokeMethod("worker_command",
                    new PyString(_package.Root.FullName),
                    options.PythonExecutable is null ? PyObject.None : new PyString(options.PythonExecutable)));
                string program = command[0].As<string>();
                var arguments = command[1].As<string[]>();
                using PyObject initargs = PythonCall.Own(PythonConvert.ToPython(options.InitializerArguments.ToArray()));
                using PyObject settings = PythonCall.Translating(() => host.InvokeMethod("settings",
                    options.Initializer ?? PyObject.None, initargs));
                Engine = new ProcessPoolExecutor(new ProcessPoolExecutorOptions
                {
                    FileName = program,
                    Arguments = arguments,
                    MaxWorkers = options.MaxWorkers,
                    MaxTasksPerChild = options.MaxTasksPerChild,
                    Initializer = settings.As<byte[]>(),
                    TaskTimeout = options.TaskTimeout,
                    IsolateCrashes = options.IsolateCrashes,
                    Logger = options.Logger,
                    ReaderStarted = PythonThreads.MarkWorker, // decoding replies keeps one thread state
                    ReaderStopping = PythonThreads.Detach,
                    RunBlocking = WithoutGil.Run,
                    Name = options.Name,
                    TraceWorkers = true, // cs_futures/_worker.py answers FrameKind.TracedTask
                });
            }
        }
        catch
        {
            _package.Dispose();
            throw;
        }
    }

    /// <summary>The engine pool underneath (workers, <see cref="ProcessPoolExecutor.Broken"/>, ...).</summary>
    public ProcessPoolExecutor Engine { get; }

    /// <summary>What the pool has done so far: <see cref="ProcessPoolExecutor.Stats"/> (Python's
    /// <c>executor.stats()</c> in cs_futures).</summary>
    public ExecutorStats Stats() => Engine.Stats();

    /// <summary>Schedules <c>fn(*args)</c> in a worker process: Python's <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>).</typeparam>
    /// <param name="fn">A Python callable that pickles by reference (a module-level function).</param>
    /// <param name="args">The arguments, .NET values converted and pickled now.</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public Future<T> SubmitPython<T>(PyObject fn, params object?[] args) => Submit<T>(fn, args, null);

    /// <summary>As <see cref="SubmitPython{T}(PyObject, object?[])"/>, with its own time limit
    /// (beyond CPython: the worker is killed when it passes, and the future fails with
    /// <see cref="TimeoutException"/>).</summary>
    public Future<T> SubmitPython<T>(TimeSpan timeout, PyObject fn, params object?[] args) => Submit<T>(fn, args, timeout);

    /// <summary>Python's <c>executor.map(fn, iterable)</c>: results in input order.</summary>
    public IEnumerable<TResult> MapPython<TSource, TResult>(PyObject fn, IEnumerable<TSource> items, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var futures = items.Select(item => SubmitPython<TResult>(fn, item)).ToList();
        return PythonExecutorExtensions.Results(futures, Deadline.After(timeout));
    }

    /// <summary>Python's <c>shutdown(wait, cancel_futures)</c>.</summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        if (wait)
        {
            Engine.Shutdown(wait: true, cancelFutures);
            _package.Dispose();
        }
        else
        {
            // The worker files go once the last worker has exited.
            _ = Engine.ShutdownAsync(cancelFutures).ContinueWith(_ => _package.Dispose(), TaskScheduler.Default);
        }
    }

    /// <summary>Shuts down and waits.</summary>
    public void Dispose() => Shutdown(wait: true);

    /// <summary>Shuts down and awaits the workers' exit.</summary>
    public async ValueTask DisposeAsync()
    {
        await Engine.ShutdownAsync().ConfigureAwait(false);
        _package.Dispose();
    }

    private unsafe Future<T> Submit<T>(PyObject fn, object?[] args, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(args);
        byte[] payload;
        using (Gil.Acquire())
        {
            // Once per task: straight through the C API (PythonCall), not pythonnet's binder.
            payload = PythonCall.Invoke<byte[]>(PyObjects.Address(_dumps), [fn, args]);
        }
        var item = new HostedPythonWorkItem<T>(payload, timeout, Decode<T>);
        Engine.SubmitWorkItem(item);
        return item.Typed;
    }

    private unsafe T Decode<T>(bool ok, byte[] reply)
    {
        using (Gil.Acquire())
        {
            return PythonCall.Invoke<T>(PyObjects.Address(_decode), [ok, reply]); // reply as bytes
        }
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
