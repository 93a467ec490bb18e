using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;
using CsFutures.Processes;
using Python.Runtime;

namespace CsFutures.Interop.Processes;

/// <summary>
/// What a .NET host needs to run Python callables in worker processes of <c>_cs_futures_worker</c>
/// (the process pool's workers, and the embedded cluster node's): the worker command line, the
/// settings each worker applies first, pickling calls and decoding replies (<c>_host.py</c>).
/// Shared by <see cref="PythonProcessPoolExecutor"/> and <c>PythonClusterExecutor</c> (CsFutures.Interop.Cluster).
/// </summary>
internal sealed class PythonWorkerHost : IDisposable
{
    private readonly WorkerPackage _package;
    private readonly bool _ownsPackage;
    private readonly PyObject _dumps;
    private readonly PyObject _decode;

    /// <summary>Loads the host helpers from <paramref name="package"/> and reads the worker command
    /// and settings. Takes the GIL.</summary>
    /// <param name="package">The private worker package; disposed with this host when <paramref name="ownsPackage"/>
    /// (also when this constructor throws).</param>
    /// <param name="ownsPackage">Whether <see cref="Dispose"/> removes the package.</param>
    /// <param name="pythonExecutable">The workers' interpreter, or null for the host's.</param>
    /// <param name="initializer">The workers' initializer, or null.</param>
    /// <param name="initializerArguments">The initializer's arguments.</param>
    /// <param name="dumpsName">The <c>_host.py</c> function that pickles a call (<c>dumps</c>, or
    /// <c>dumps_cluster</c> for the cluster's tagged payloads).</param>
    /// <exception cref="PythonRaisedException">The initializer cannot be pickled, or no python
    /// executable was found for the workers.</exception>
    public PythonWorkerHost(WorkerPackage package, bool ownsPackage, string? pythonExecutable,
        PyObject? initializer, IReadOnlyList<object?> initializerArguments, string dumpsName = "dumps")
    {
        _package = package;
        _ownsPackage = ownsPackage;
        try
        {
            using (Gil.Acquire())
            {
                using PyObject host = PythonProcessPoolExecutor.LoadHostModule(package);
                _dumps = host.GetAttr(dumpsName);
                _decode = host.GetAttr("decode");
                using PyObject command = PythonCall.Translating(() => host.InvokeMethod("worker_command",
                    new PyString(package.Root.FullName),
                    pythonExecutable is null ? PyObject.None : new PyString(pythonExecutable)));
                Program = command[0].As<string>();
                Arguments = command[1].As<string[]>();
                using PyObject initargs = PythonCall.Own(PythonConvert.ToPython(initializerArguments.ToArray()));
                using PyObject settings = PythonCall.Translating(() => host.InvokeMethod("settings",
                    initializer ?? PyObject.None, initargs));
                Settings = settings.As<byte[]>();
            }
        }
        catch
        {
            if (ownsPackage)
            {
                package.Dispose();
            }
            throw;
        }
    }

    /// <summary>The program that starts a worker (a python executable).</summary>
    public string Program { get; }

    /// <summary>Its arguments (the bootstrap of the private package).</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The pickled settings each worker receives in its Init frame (the host's <c>sys.path</c>,
    /// the initializer).</summary>
    public byte[] Settings { get; }

    /// <summary>The engine pool's options for these workers, as every hosting executor starts them: this
    /// program and bootstrap, the settings as the Init frame's payload, the pool's <see cref="PythonPoolOptions"/>
    /// (workers, name, logger) and traced tasks (<c>_cs_futures_worker/_worker.py</c> answers
    /// <see cref="FrameKind.TracedTask"/>). The caller adds its own with <c>with { ... }</c>.</summary>
    public ProcessPoolExecutorOptions PoolOptions(PythonPoolOptions options) => new()
    {
        FileName = Program,
        Arguments = Arguments,
        Initializer = Settings,
        MaxWorkers = options.MaxWorkers,
        Name = options.Name,
        Logger = options.Logger,
        TraceWorkers = true,
    };

    /// <summary>A work item for <c>fn(*args)</c>: the call pickled now (under the GIL), the reply
    /// decoded and converted to <typeparamref name="T"/> when it arrives.</summary>
    /// <param name="fn">The callable.</param>
    /// <param name="args">.NET arguments, converted by <see cref="PythonConvert"/>.</param>
    /// <param name="timeout">The task's own time limit, or null.</param>
    /// <param name="decodeOnThreadPool">Decode on a thread-pool thread rather than the thread that
    /// delivers the reply (the cluster's replies arrive on Orleans' threads, which must not wait for the GIL).</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    public unsafe HostedPythonWorkItem<T> WorkItem<T>(PyObject fn, object?[] args, TimeSpan? timeout, bool decodeOnThreadPool = false)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(args);
        byte[] payload;
        using (Gil.Acquire())
        {
            // Once per task: straight through the C API (PythonCall), not pythonnet's binder.
            payload = PythonCall.Invoke<byte[]>(PyObjects.Address(_dumps), [fn, args]);
        }
        return new HostedPythonWorkItem<T>(payload, timeout, Decode<T>, decodeOnThreadPool);
    }

    /// <summary>Removes the private package, if this host owns it.</summary>
    public void Dispose()
    {
        if (_ownsPackage)
        {
            _package.Dispose();
        }
    }

    private unsafe T Decode<T>(bool ok, byte[] reply)
    {
        using (Gil.Acquire())
        {
            return PythonCall.Invoke<T>(PyObjects.Address(_decode), [ok, reply]); // reply as bytes
        }
    }
}
