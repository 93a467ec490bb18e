// A .NET generic host that runs a Python function over a batch of inputs on a named executor, then
// CPU-bound Python work on a named process pool (in parallel, free of the GIL):
//   dotnet run --project samples/Futures.HostedPython            (Ctrl-C stops it cleanly)
// Python is found without configuration (python3 on PATH, VIRTUAL_ENV, PYTHONNET_PYDLL, ...), or set
// "Python:LibraryPath" / "Python:Home" in appsettings.json.
// OpenTelemetry reads the executors' meter and activity source ("CsFutures"): the metrics are printed
// when the host stops, with the spans of the process-pool phase (each task a child of the "count-primes"
// span, timed by its worker process). Serve them to Prometheus on loopback with
//   dotnet run --project samples/Futures.HostedPython -- --Telemetry:PrometheusPort=9464   (http://127.0.0.1:9464/metrics)
using CsFutures.Interop.Hosting;
using Futures.HostedPython;
using BatchWorker = Futures.HostedPython.BatchWorker; // Orleans (through the cluster) has a BatchWorker too
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
builder.Services.AddExecutor("python", builder.Configuration.GetSection("Executors:python"));
builder.Services.AddPythonProcessPool("cpu", builder.Configuration.GetSection("ProcessPools:cpu"));
builder.Services.Configure<BatchOptions>(builder.Configuration.GetSection("Batch"));
builder.Services.AddHostedService<BatchWorker>();
builder.Services.AddExecutorTelemetry(builder.Configuration.GetSection("Telemetry"));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
await builder.Build().RunAsync();
