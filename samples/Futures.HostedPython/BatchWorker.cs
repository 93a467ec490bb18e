using System.Diagnostics;
using CsFutures;
using CsFutures.Interop;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Futures.HostedPython;

/// <summary>What to run: <c>Module.Function(n)</c> for n in 0..Count-1.</summary>
public sealed class BatchOptions
{
    public string Module { get; set; } = "work.py";

    public string Function { get; set; } = "score";

    public int Count { get; set; } = 40;
}

/// <summary>Submits the batch to the "python" executor and reports each result as it completes.</summary>
public sealed class BatchWorker(
    PythonRuntime python,
    [FromKeyedServices("python")] Executor executor,
    [FromKeyedServices("cpu")] PythonProcessPoolExecutor processes,
    IOptions<BatchOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<BatchWorker> logger) : BackgroundService
{
    /// <summary>The sample's own activity source: the spans that submit work.</summary>
    public const string SourceName = "Futures.HostedPython";

    /// <summary>The span around the process-pool phase; the tasks' spans are its children.</summary>
    public const string PrimesSpan = "count-primes";

    private static readonly ActivitySource s_source = new(SourceName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = options.Value;
        string module = Path.Combine(AppContext.BaseDirectory, batch.Module);
        var fn = python.GetCallable(module, batch.Function);
        var futures = Enumerable.Range(0, batch.Count)
            .Select(n => executor.SubmitPython<Dictionary<string, object?>>(fn, n))
            .ToList();
        logger.LogInformation("Submitted {Count} calls of {Module}.{Function} (Python {Version})",
            futures.Count, batch.Module, batch.Function, python.Version.Split(' ')[0]);
        int done = 0, failed = 0;
        try
        {
            await foreach (var future in CsFutures.Futures.AsCompletedAsync(futures, cancellationToken: stoppingToken))
            {
                done++;
                if (future.Exception() is PythonRaisedException ex)
                {
                    failed++;
                    logger.LogError("[{Done}/{Total}] failed: {Type}: {Message}\n{Traceback}", done, futures.Count, ex.PythonType, ex.PythonMessage, ex.PythonTraceback);
                }
                else if (!future.Cancelled())
                {
                    var r = future.Result();
                    logger.LogInformation("[{Done}/{Total}] {Input} -> {Digest} (square {Square})", done, futures.Count, r["input"], r["digest"], r["square"]);
                }
            }
            logger.LogInformation("Batch finished: {Done} done, {Failed} failed", done, failed);
            await CountPrimesAsync(module, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Stopping: {Done} of {Total} done; the rest is cancelled", done, futures.Count);
        }
        lifetime.StopApplication();
    }

    /// <summary>CPU-bound Python on the process pool: the calls run in parallel in worker processes.</summary>
    private async Task CountPrimesAsync(string module, CancellationToken stoppingToken)
    {
        using var span = s_source.StartActivity(PrimesSpan);
        var countPrimes = python.GetCallable(module, "count_primes");
        var limits = new[] { 60_000, 70_000, 80_000, 90_000 };
        var futures = limits.Select(limit => processes.SubmitPython<List<long>>(countPrimes, limit)).ToList();
        foreach (var future in futures)
        {
            var r = await future.AsTask().WaitAsync(stoppingToken);
            logger.LogInformation("primes below {Limit}: {Count} (worker process {Pid})", r[0], r[1], r[2]);
        }
        var stats = processes.Stats();
        logger.LogInformation("process pool {Name}: {Submitted} submitted, {Completed} completed, {Starts} workers started",
            stats.Name, stats.Submitted, stats.Completed, stats.WorkerStarts);
    }
}
