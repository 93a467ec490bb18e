using CsFutures.Interop.CPython;
using CsFutures.Processes;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// The engine's <see cref="ProcessPoolExecutor"/> as the Python package drives it: pickled calls
/// in, futures whose outcomes the package's decoder unpickles, and the worker processes by pid for
/// <c>executor._processes</c>.
/// </summary>
internal sealed unsafe class PythonProcessPool
{
    /// <summary>How many exited workers stay known by pid, for <c>exitcode</c> and <c>join()</c>
    /// of <c>_processes</c> entries read after the worker left.</summary>
    private const int ExitedKept = 64;

    private readonly PyRef _decoder;
    private readonly Lock _seenLock = new();
    private readonly Dictionary<int, WorkerProcessInfo> _seen = [];
    private readonly Queue<int> _exitedOrder = new();

    public PythonProcessPool(ProcessPoolExecutorOptions options, PyRef decoder)
    {
        Engine = new ProcessPoolExecutor(options);
        _decoder = decoder;
    }

    public ProcessPoolExecutor Engine { get; }

    /// <summary>Submits a pickled call. An empty <paramref name="payload"/> (no pickle is empty) stands
    /// for a call the package could not pickle: the pool counts it as CPython's <c>submit</c> does (it
    /// may start a worker, see <see cref="ProcessPoolExecutor.NoteUnserializableCall"/>) and the
    /// returned future is already cancelled; the package fails its own future with the error.</summary>
    public Future Submit(byte[] payload, TimeSpan? timeout)
    {
        if (payload.Length == 0)
        {
            Engine.NoteUnserializableCall();
            var unused = new Future<PyRef>();
            unused.Cancel();
            return unused;
        }
        var future = new PythonProcessFuture(_decoder);
        Engine.SubmitWorkItem(new PythonProcessWorkItem(future, payload, timeout));
        return future;
    }

    /// <summary>The current workers' pids; each is remembered for <see cref="Worker"/> while it runs,
    /// and for the <see cref="ExitedKept"/> most recently exited ones after, so that the table stays
    /// bounded however many workers <c>max_tasks_per_child</c> replaces.</summary>
    public int[] WorkerPids()
    {
        var workers = Engine.Workers;
        lock (_seenLock)
        {
            foreach (var w in workers)
            {
                _seen.TryAdd(w.Pid, w);
            }
            foreach (var (pid, w) in _seen)
            {
                if (!w.IsAlive && !_exitedOrder.Contains(pid))
                {
                    _exitedOrder.Enqueue(pid);
                }
            }
            while (_exitedOrder.Count > ExitedKept)
            {
                _seen.Remove(_exitedOrder.Dequeue());
            }
        }
        return workers.Select(w => w.Pid).ToArray();
    }

    /// <summary>A worker this pool listed (still running, or among the last exited), or null.</summary>
    public WorkerProcessInfo? Worker(int pid)
    {
        lock (_seenLock)
        {
            return _seen.TryGetValue(pid, out var w) ? w : null;
        }
    }

    /// <summary>Reads the options tuple the package passes (see <c>cs_futures/process.py</c>).</summary>
    public static ProcessPoolExecutorOptions ReadOptions(IntPtr config)
    {
        IntPtr Item(int i) => PyApi.PyTuple_GetItem(config, i);
        long Int(int i) => PyApi.PyLong_AsLongLong(Item(i));
        string Str(IntPtr s) => PyApi.ReadString(s) ?? throw new ArgumentException("expected a str");
        List<string> StrList(IntPtr list)
        {
            var result = new List<string>();
            for (nint i = 0; i < PyApi.PyList_Size(list); i++)
            {
                result.Add(Str(PyApi.PyList_GetItem(list, i)));
            }
            return result;
        }
        var environment = new Dictionary<string, string>();
        foreach (string entry in StrList(Item(2)))
        {
            int eq = entry.IndexOf('=');
            environment[entry[..eq]] = entry[(eq + 1)..];
        }
        byte[] initializer = PyApi.ReadBytes(Item(5));
        double timeout = PyApi.PyFloat_AsDouble(Item(8));
        return new ProcessPoolExecutorOptions
        {
            FileName = Str(Item(0)),
            Arguments = StrList(Item(1)),
            Environment = environment,
            MaxWorkers = (int)Int(3),
            MaxTasksPerChild = Int(4) is > 0 and var max ? (int)max : null,
            Initializer = initializer,
            StartAllWorkers = Int(6) != 0,
            IsolateCrashes = Int(7) != 0,
            TaskTimeout = timeout > 0 ? TimeSpan.FromSeconds(timeout) : null,
            RunBlocking = WithoutGil.Run,
            TraceWorkers = true, // _cs_futures_worker/_worker.py answers FrameKind.TracedTask
            Name = Str(Item(9)),
        };
    }
}
