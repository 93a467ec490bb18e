using CsFutures.Interop.CPython;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;
using Python.Runtime;
using CsFutures.Interop.Threads;
using CsFutures.Telemetry;

namespace CsFutures.Interop.Interpreters;

/// <summary>
/// Python 3.14's <c>concurrent.futures.InterpreterPoolExecutor</c> for a .NET application that hosts
/// Python (CPython 3.12 or newer): each worker thread owns an isolated subinterpreter with its own GIL
/// for its lifetime, so Python callables run in parallel inside the host process, without worker
/// processes.
/// </summary>
/// <remarks>
/// <para>Calls are pickled in the host's interpreter (the callable by reference, as <c>module.name</c>:
/// use <see cref="PythonRuntime.GetCallable"/>), run in a worker's interpreter, and the result is
/// pickled back and converted with <see cref="PythonConvert"/>, as <c>SubmitPython&lt;T&gt;</c> does.
/// pythonnet knows only the main interpreter: the workers' interpreters are driven through the C API
/// (<c>Py_NewInterpreterFromConfig</c>, <c>Py_EndInterpreter</c>), and only bytes cross between them.</para>
/// <para>A Python exception becomes <see cref="PythonRaisedException"/> whose traceback includes the
/// worker interpreter's (an <c>ExecutionFailed</c> summary); an extension module that does not
/// support subinterpreters fails its task with an <c>ImportError</c> naming it; a failing
/// initializer breaks the pool (<see cref="BrokenInterpreterPoolException"/>).</para>
/// </remarks>
public sealed class PythonInterpreterPoolExecutor : PythonPoolExecutor
{
    private readonly WorkerPackage _package;
    private readonly PyObject _dumps;
    private readonly PyObject _decode;

    /// <summary>Prepares the pool; each worker creates its interpreter at its first task.</summary>
    /// <exception cref="NotSupportedException">The hosted CPython is older than 3.12.</exception>
    /// <exception cref="PythonRaisedException">The initializer cannot be pickled.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PythonPoolOptions.MaxWorkers"/> is not positive.</exception>
    public PythonInterpreterPoolExecutor(PythonRuntime runtime, PythonInterpreterPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        options ??= new PythonInterpreterPoolOptions();
        if (!SubInterpreter.Supported)
        {
            throw new NotSupportedException(
                $"PythonInterpreterPoolExecutor needs CPython {SubInterpreter.RequiredVersion} or newer (isolated "
                + $"subinterpreters with their own GIL); the host runs {runtime.Version}. Use PythonProcessPoolExecutor");
        }
        if (options.MaxWorkers is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), FuturesMessages.MaxWorkersNotPositive);
        }
        _package = WorkerPackage.Extract();
        try
        {
            string bootstrap;
            byte[]? initializer = null;
            using (Gil.Acquire())
            {
                using PyObject host = PythonProcessPoolExecutor.LoadHostModule(_package);
                _dumps = host.GetAttr("dumps");
                _decode = host.GetAttr("decode_interpreter");
                using PyObject code = PythonCall.Translating(() =>
                    host.InvokeMethod("interpreter_bootstrap", new PyString(_package.Root.FullName)));
                bootstrap = code.As<string>();
                if (options.Initializer is { } init)
                {
                    initializer = PythonCall.Invoke<byte[]>(PyObjects.Address(_dumps), [init, options.InitializerArguments.ToArray()]);
                }
            }
            Action? runInitializer = initializer is null ? null : () => RunInInterpreter<object?>(initializer);
            Engine = new ThreadPoolExecutor(options.MaxWorkers, options.ThreadNamePrefix ?? options.Name, runInitializer,
                PythonThreads.InterpreterOptions(bootstrap, logger: options.Logger));
        }
        catch
        {
            _package.Dispose();
            throw;
        }
    }

    /// <summary>The engine's thread pool underneath (<see cref="ThreadPoolExecutor.Threads"/>,
    /// <see cref="ThreadPoolExecutor.Broken"/>, ...).</summary>
    public ThreadPoolExecutor Engine { get; }

    /// <summary>The pool's name: its threads' name prefix (<see cref="ThreadPoolExecutor.ThreadNamePrefix"/>).</summary>
    public override string Name => Engine.ThreadNamePrefix;

    /// <summary>What the pool has done so far: <see cref="ThreadPoolExecutor.Stats"/> (Python's
    /// <c>executor.stats()</c> in cs_futures).</summary>
    public override ExecutorStats Stats() => Engine.Stats();

    /// <summary>Schedules <c>fn(*args)</c> in a worker's interpreter: Python's <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>).</typeparam>
    /// <param name="fn">A Python callable that pickles by reference (a module-level function).</param>
    /// <param name="args">The arguments, .NET values converted and pickled now.</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    /// <exception cref="BrokenInterpreterPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public override unsafe Future<T> SubmitPython<T>(PyObject fn, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(args);
        byte[] payload;
        using (Gil.Acquire())
        {
            payload = PythonCall.Invoke<byte[]>(PyObjects.Address(_dumps), [fn, args]);
        }
        return Engine.Submit(() => RunInInterpreter<T>(payload));
    }

    // The workers end their interpreters as they exit.
    private protected override void ShutdownEngine(bool cancelFutures) => Engine.Shutdown(wait: true, cancelFutures);

    private protected override Task ShutdownEngineAsync(bool cancelFutures) => Engine.ShutdownAsync(cancelFutures);

    private protected override void ReleaseResources() => _package.Dispose();

    /// <summary>On a worker: the pickled call in the worker's interpreter (no GIL held meanwhile),
    /// then the reply decoded under the host's GIL.</summary>
    private unsafe T RunInInterpreter<T>(byte[] payload)
    {
        PythonThreads.EnsureAttached(); // the worker's main thread state exists before its interpreter
        byte[] reply;
        fixed (byte* p = payload)
        {
            reply = SubInterpreter.Run(p, payload.Length);
        }
        using (Gil.Acquire())
        {
            return PythonCall.Invoke<T>(PyObjects.Address(_decode), [reply]);
        }
    }
}
