using System.Collections.Concurrent;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Processes;

/// <summary>
/// The engine's <see cref="ProcessPoolExecutor"/> as the Python package drives it: pickled calls
/// in, futures whose outcomes the package's decoder unpickles, and the worker processes by pid for
/// <c>executor._processes</c>.
/// </summary>
internal sealed unsafe class PythonProcessPool
{
    private readonly PyRef _decoder;
    private readonly ConcurrentDictionary<int, WorkerProcessInfo> _seen = new();

    public PythonProcessPool(ProcessPoolExecutorOptions options, PyRef decoder)
    {
        Engine = new ProcessPoolExecutor(options);
        _decoder = decoder;
    }

    public ProcessPoolExecutor Engine { get; }

    public Future Submit(byte[] payload, TimeSpan? timeout)
    {
        var future = new PythonProcessFuture(_decoder);
        Engine.SubmitWorkItem(new PythonProcessWorkItem(future, payload, timeout));
        return future;
    }

    /// <summary>The current workers' pids; each is remembered for <see cref="Worker"/>.</summary>
    public int[] WorkerPids()
    {
        var workers = Engine.Workers;
        foreach (var w in workers)
        {
            _seen.TryAdd(w.Pid, w);
        }
        return workers.Select(w => w.Pid).ToArray();
    }

    /// <summary>A worker this pool listed once, or null.</summary>
    public WorkerProcessInfo? Worker(int pid) => _seen.TryGetValue(pid, out var w) ? w : null;

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
        byte[] initializer = PythonConvert.FromPython<byte[]>(Item(5));
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
        };
    }
}
