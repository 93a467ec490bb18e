using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Python.Runtime;
using CsFutures.Interop.Threads;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// The CPython interpreter hosted in this .NET process (through pythonnet): one per process, started
/// once by <see cref="Start"/> (thread-safe: every caller gets the same instance), shut down when
/// every <see cref="Start"/> has been matched by a <see cref="Dispose"/>. In Python terms it is the embedding application's <c>Py_Initialize()</c> /
/// <c>Py_FinalizeEx()</c>.
/// </summary>
/// <remarks>
/// <para>The interpreter is owned by one dedicated thread (named <c>python-runtime</c>): it sets
/// pythonnet's <c>Runtime.PythonDLL</c>, calls <c>PythonEngine.Initialize()</c>, releases the GIL at
/// once (<c>PythonEngine.BeginAllowThreads()</c>, so that worker threads can take it), and at
/// <see cref="Dispose"/> takes it back and finalizes. Never dispose it from
/// <see cref="AppDomain.ProcessExit"/> (pythonnet issue #1701: it hangs); the hosting integration
/// disposes it when the host stops.</para>
/// <para>CPython cannot be restarted in one process: after <see cref="Dispose"/>, <see cref="Start"/>
/// throws.</para>
/// <para>The <see cref="PyObject"/>s it returns are pythonnet's: dispose them under the GIL
/// (<c>using (Py.GIL())</c>) or let the garbage collector release them (pythonnet then queues the
/// release for a thread that holds the GIL).</para>
/// </remarks>
public sealed class PythonRuntime : IDisposable
{
    private static readonly Lock s_lock = new();
    private static PythonRuntime? s_current;
    private static bool s_stopped;
    private static int s_references;

    private readonly PythonRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly Thread _owner;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _stopRequested = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<WeakReference<Executor>> _executors = new();
    private int _disposed;
    private volatile bool _keepAlive;

    private PythonRuntime(PythonLocation location, PythonRuntimeOptions options, ILogger logger)
    {
        Location = location;
        _options = options;
        _logger = logger;
        _owner = new Thread(OwnerMain) { IsBackground = true, Name = "python-runtime" };
    }

    /// <summary>The running interpreter, or <c>null</c> before <see cref="Start"/> or after
    /// <see cref="Dispose"/>.</summary>
    public static PythonRuntime? Current
    {
        get
        {
            lock (s_lock)
            {
                return s_current;
            }
        }
    }

    /// <summary>The libpython that was loaded and where it was found.</summary>
    public PythonLocation Location { get; }

    /// <summary>Python's <c>sys.version</c>.</summary>
    public string Version { get; private set; } = "";

    /// <summary>True from start until <see cref="Dispose"/>.</summary>
    public bool IsRunning => Volatile.Read(ref _disposed) == 0;

    /// <summary>
    /// Starts the interpreter, or returns the one already running (later callers' options are
    /// ignored). Safe to call from many threads at once. Each call takes a reference that
    /// <see cref="Dispose"/> releases; the last release shuts the interpreter down.
    /// </summary>
    /// <param name="options">Where to find CPython; <c>null</c> uses the defaults.</param>
    /// <param name="logger">Where start and stop are logged.</param>
    /// <exception cref="PythonNotFoundException">No usable CPython was found.</exception>
    /// <exception cref="InvalidOperationException">The interpreter was already shut down in this process.</exception>
    public static PythonRuntime Start(PythonRuntimeOptions? options = null, ILogger? logger = null)
    {
        lock (s_lock)
        {
            if (s_current is not null)
            {
                s_references++;
                return s_current;
            }
            if (s_stopped)
            {
                throw new InvalidOperationException("the Python interpreter was shut down; CPython cannot be restarted in one process");
            }
            options ??= new PythonRuntimeOptions();
            logger ??= NullLogger.Instance;
            var location = PythonLocator.Locate(options);
            var runtime = new PythonRuntime(location, options, logger);
            runtime._owner.Start();
            runtime._started.Task.GetAwaiter().GetResult(); // rethrows a start failure
            s_current = runtime;
            s_references = 1;
            logger.LogInformation("Python {Version} started from {Library} (found by {Source})",
                runtime.Version, location.LibraryPath, location.Source);
            return runtime;
        }
    }

    /// <summary>
    /// Imports a module by name: Python's <c>importlib.import_module(name)</c>.
    /// </summary>
    /// <exception cref="PythonRaisedException">The import raised (e.g. <c>ModuleNotFoundError</c>).</exception>
    public PyObject Import(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfDisposed();
        using (Gil.Acquire())
        {
            return PythonCall.Own(PyApi.Import(name));
        }
    }

    /// <summary>
    /// Loads a <c>.py</c> file as a module (registered in <c>sys.modules</c> under
    /// <paramref name="moduleName"/>, by default the file's name): Python's
    /// <c>importlib.util.spec_from_file_location</c> + <c>exec_module</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="PythonRaisedException">Running the module raised.</exception>
    public PyObject LoadFile(string path, string? moduleName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfDisposed();
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"no Python file {full}", full);
        }
        moduleName ??= Path.GetFileNameWithoutExtension(full);
        using (Gil.Acquire())
        {
            using PyObject loader = PythonCall.Own(PyApi.Import("importlib.util"));
            using PyObject ns = PythonCall.Translating(() =>
            {
                var scope = new PyDict();
                scope["util"] = loader;
                scope["name"] = new PyString(moduleName);
                scope["path"] = new PyString(full);
                PythonEngine.Exec(
                    "import sys\n"
                    + "spec = util.spec_from_file_location(name, path)\n"
                    + "module = util.module_from_spec(spec)\n"
                    + "sys.modules[name] = module\n"
                    + "try:\n    spec.loader.exec_module(module)\n"
                    + "except BaseException:\n    del sys.modules[name]\n    raise\n",
                    scope);
                return scope;
            });
            return ns.GetItem("module");
        }
    }

    /// <summary>
    /// A callable from a module: <c>getattr(import_module(module), name)</c>; <paramref name="module"/>
    /// ending in <c>.py</c> is loaded with <see cref="LoadFile"/>.
    /// </summary>
    /// <exception cref="PythonRaisedException">The import raised, or the attribute is missing
    /// (<c>AttributeError</c>).</exception>
    /// <exception cref="ArgumentException">The attribute is not callable.</exception>
    public PyObject GetCallable(string module, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        PyObject mod = module.EndsWith(".py", StringComparison.OrdinalIgnoreCase) ? LoadFile(module) : Import(module);
        using (Gil.Acquire())
        {
            using PyObject owned = mod; // released under the GIL
            PyObject fn = PythonCall.Own(PyApi.GetAttr(PyObjects.Address(mod), name));
            if (!fn.IsCallable())
            {
                fn.Dispose();
                throw new ArgumentException($"{module}.{name} is not callable", nameof(name));
            }
            return fn;
        }
    }

    /// <summary>
    /// The thread hooks that let a <see cref="ThreadPoolExecutor"/> run Python efficiently: each worker
    /// creates its Python thread state once and keeps it between tasks, taking the GIL only while
    /// Python runs.
    /// </summary>
    public static ThreadPoolExecutorOptions ExecutorOptions(ILogger? logger = null)
    {
        var options = PythonThreads.Options();
        options.Logger = logger;
        return options;
    }

    /// <summary>
    /// A thread pool for Python (and .NET) work, with <see cref="ExecutorOptions"/>: Python's
    /// <c>concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)</c>.
    /// The runtime shuts it down (cancelling pending work) if it is still running at <see cref="Dispose"/>.
    /// </summary>
    public ThreadPoolExecutor CreateExecutor(int? maxWorkers = null, string? threadNamePrefix = null,
        Action? initializer = null, ILogger? logger = null)
    {
        ThrowIfDisposed();
        var executor = new ThreadPoolExecutor(maxWorkers, threadNamePrefix, initializer, ExecutorOptions(logger));
        lock (_executors)
        {
            _executors.RemoveAll(w => !w.TryGetTarget(out _));
            _executors.Add(new WeakReference<Executor>(executor));
        }
        return executor;
    }

    /// <summary>
    /// Releases the reference taken by <see cref="Start"/>. The last release shuts the interpreter down:
    /// first the executors made by <see cref="CreateExecutor"/> that are
    /// still running (pending work cancelled, running work awaited), then the GIL is taken back on the
    /// owner thread and pythonnet's <c>PythonEngine.Shutdown()</c> finalizes CPython.
    /// </summary>
    /// <remarks>pythonnet 3.2.1 binds <c>_Py_IsFinalizing</c>, which CPython 3.13 renamed
    /// <c>Py_IsFinalizing</c>. It binds it lazily, and its shutdown does not reach it on 3.13.0 (tested:
    /// executors, finalized objects, GC after shutdown). Should it fail with
    /// <see cref="EntryPointNotFoundException"/>, the interpreter stays loaded until the process exits,
    /// every Python call is refused, and a warning is logged. With
    /// <see cref="PythonRuntimeOptions.FinalizeOnDispose"/> false the interpreter is never finalized.
    /// Never call this from <see cref="AppDomain.ProcessExit"/> (pythonnet #1701).</remarks>
    public void Dispose()
    {
        lock (s_lock)
        {
            if (s_current != this || --s_references > 0)
            {
                return;
            }
            if (_keepAlive)
            {
                _logger.LogWarning("Python left running: threads still run Python code");
                return;
            }
        }
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        List<Executor> executors = new();
        lock (_executors)
        {
            foreach (var w in _executors)
            {
                if (w.TryGetTarget(out var e))
                {
                    executors.Add(e);
                }
            }
            _executors.Clear();
        }
        // Waits for running tasks, which may read Current (s_lock): never with the lock held.
        Invariants.AssertNotHeld(s_lock);
        foreach (var executor in executors)
        {
            executor.Shutdown(wait: true, cancelFutures: true);
        }
        lock (s_lock)
        {
            s_current = null;
            s_stopped = true;
        }
        _stopRequested.Set();
        _stopped.Task.GetAwaiter().GetResult();
        _logger.LogInformation("Python {Version} shut down", Version);
    }

    /// <summary>Makes <see cref="Dispose"/> do nothing: threads still run Python code, which finalizing
    /// would end. The interpreter then lives until the process exits.</summary>
    internal void KeepAlive() => _keepAlive = true;

    private void OwnerMain()
    {
        IntPtr threadState;
        try
        {
            Python.Runtime.Runtime.PythonDLL = Location.LibraryPath;
            PythonEngine.Initialize(setSysArgv: false, initSigs: false);
            PyApi.Load(NativeLibrary.Load(Location.LibraryPath));
            Version = PythonEngine.Version;
            ConfigurePath();
            threadState = PythonEngine.BeginAllowThreads();
        }
        catch (Exception ex)
        {
            _started.SetException(ex);
            return;
        }
        _started.SetResult();
        _stopRequested.Wait();
        try
        {
            PythonEngine.EndAllowThreads(threadState);
            if (!_options.FinalizeOnDispose)
            {
                MarkStopped();
                PythonEngine.BeginAllowThreads();
            }
            else
            {
                try
                {
                    PythonEngine.Shutdown();
                }
                catch (EntryPointNotFoundException ex)
                {
                    // pythonnet 3.2.1 binds _Py_IsFinalizing lazily; CPython 3.13 renamed it Py_IsFinalizing.
                    // Measured here: Shutdown on 3.13.0 does not reach it, but if a later version does, the
                    // interpreter stays loaded and every Python call is refused.
                    _logger.LogWarning(ex, "Python {Version}: pythonnet could not finalize the interpreter; Python calls are refused from now on", Version);
                    MarkStopped();
                }
            }
            _stopped.SetResult();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Python shutdown failed");
            _stopped.SetException(ex);
        }
    }

    /// <summary>Makes <see cref="PyApi.IsFinalizing"/> refuse Python calls when the interpreter stays loaded.</summary>
    private static void MarkStopped() => PyApi.MarkShutDown();

    private void ConfigurePath()
    {
        var code = new System.Text.StringBuilder("import sys, site\n");
        if (Location.VirtualEnvironment is { } venv)
        {
            string sitePackages = Path.Combine(venv, "lib", $"python{Location.Version.Major}.{Location.Version.Minor}", "site-packages");
            code.Append($"site.addsitedir({PyLiteral(sitePackages)})\n");
        }
        foreach (string folder in _options.ModulePaths.Reverse())
        {
            code.Append($"sys.path.insert(0, {PyLiteral(Path.GetFullPath(folder))})\n");
        }
        PythonEngine.Exec(code.ToString());
    }

    private static string PyLiteral(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(!IsRunning, this);
}
