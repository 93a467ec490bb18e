// A consumer of the CsFutures, CsFutures.Interop and CsFutures.Interop.Cluster packages (see README.md next to it).
using System.Diagnostics.Metrics;
using CsFutures;
using CsFutures.Interop.Cluster;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;
using CsFutures.Telemetry;

long submitted = 0;
using var meters = new MeterListener();
meters.InstrumentPublished = (instrument, listener) =>
{
    if (instrument.Meter.Name == FuturesTelemetry.MeterName && instrument.Name == FuturesTelemetry.Names.Submitted)
    {
        listener.EnableMeasurementEvents(instrument);
    }
};
meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref submitted, value));
meters.Start();

// The engine: a C# executor.
var executor = new ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "consumer");
var squares = Futures.AsCompleted(Enumerable.Range(1, 5).Select(n => executor.Submit(() => n * n)).ToList())
    .Select(f => f.Result()).Order().ToList();
executor.Shutdown();
Check(string.Join(",", squares) == "1,4,9,16,25", $"squares: {string.Join(",", squares)}");
Check(executor.Stats().Completed == 5, $"stats: {executor.Stats()}");
Console.WriteLine($"C# executor: {string.Join(", ", squares)}");

// The interop package: CPython found by the locator, a Python callable on a thread pool and on a
// process pool of Python workers.
using var python = PythonRuntime.Start();
string tasks = Path.Combine(AppContext.BaseDirectory, "tasks.py");
using (var py = python.CreateExecutor(maxWorkers: 2, threadNamePrefix: "py"))
{
    long total = py.SubmitPython<long>(python.GetCallable(tasks, "total"), 10).Result(TimeSpan.FromSeconds(60));
    Check(total == 45, $"total: {total}");
    Console.WriteLine($"Python {python.Version.Split(' ')[0]} on a thread pool: total(10) = {total}");
}
using (var pool = new PythonProcessPoolExecutor(python, new PythonProcessPoolOptions { MaxWorkers = 1, Name = "consumer-procs" }))
{
    int pid = pool.SubmitPython<int>(python.GetCallable(tasks, "pid")).Result(TimeSpan.FromSeconds(60));
    Check(pid != Environment.ProcessId, "the task ran in a worker process");
    Console.WriteLine($"Python on a process pool: worker pid {pid}");
}
Check(Interlocked.Read(ref submitted) == 7, $"submitted measured: {submitted}");

// The cluster side, a package of its own: its executor and hosting registration resolve (no cluster runs here).
var clusterOptions = new PythonClusterOptions { MaxWorkers = 1 };
Check(typeof(PythonClusterExecutor).Assembly.GetName().Name == "Futures.Interop.Cluster", "PythonClusterExecutor's assembly");
Check(typeof(ClusterHostingExtensions).GetMethod(nameof(ClusterHostingExtensions.AddPythonCluster)) is not null, "AddPythonCluster");
Console.WriteLine($"CsFutures.Interop.Cluster: {nameof(PythonClusterExecutor)} (max workers {clusterOptions.MaxWorkers}), {nameof(ClusterHostingExtensions.AddPythonCluster)}");
Console.WriteLine("consumer: OK");
return 0;

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"consumer: FAILED: {what}");
        Environment.Exit(1);
    }
}
