using BenchmarkDotNet.Attributes;
using CsFutures;

namespace Futures.Benchmarks;

/// <summary>Per-task overhead on trivial work: each invocation runs a batch of <see cref="N"/>
/// tasks, and <c>OperationsPerInvoke</c> makes every number read per task.</summary>
[MemoryDiagnoser]
public class OverheadBenchmarks
{
    public const int N = 10_000;

    private ThreadPoolExecutor _executor = null!;
    private readonly Future<int>[] _futures = new Future<int>[N];
    private readonly Task<int>[] _tasks = new Task<int>[N];
    private readonly int[] _results = new int[N];

    [GlobalSetup]
    public void Setup()
    {
        _executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        // Let the lazily started workers and the .NET pool come up before measuring.
        Workloads.SubmitThenResult(_executor, _futures);
        Workloads.TaskRunWhenAll(_tasks);
    }

    [GlobalCleanup]
    public void Cleanup() => _executor.Shutdown();

    [Benchmark(OperationsPerInvoke = N, Description = "TPE(4) Submit+Result")]
    public long SubmitResult() => Check(Workloads.SubmitThenResult(_executor, _futures));

    [Benchmark(OperationsPerInvoke = N, Description = "TPE(4) Map")]
    public long Map() => Check(Workloads.Map(_executor, N));

    [Benchmark(OperationsPerInvoke = N, Description = "TPE(4) AsCompleted")]
    public long AsCompleted() => Check(Workloads.AsCompleted(_executor, _futures));

    [Benchmark(OperationsPerInvoke = N, Baseline = true, Description = "Task.Run+WhenAll")]
    public long TaskRunWhenAll() => Check(Workloads.TaskRunWhenAll(_tasks));

    [Benchmark(OperationsPerInvoke = N, Description = "ThreadPool.UQUWI+countdown")]
    public long ThreadPoolCountdown() => Check(Workloads.ThreadPoolCountdown(_results));

    private static long Check(long sum) =>
        sum == Workloads.ExpectedSum(N) ? sum : throw new InvalidOperationException($"wrong sum {sum}");
}
