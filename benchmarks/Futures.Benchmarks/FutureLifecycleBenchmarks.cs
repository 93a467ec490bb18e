using BenchmarkDotNet.Attributes;
using CsFutures;

namespace Futures.Benchmarks;

/// <summary>One future's life on one thread, against .NET's own promise: what a future costs by
/// itself, without the threads, queue and scheduling that make the end-to-end benchmarks noisy on
/// this 2-core machine. The executor's worker does the middle steps; the submitter the first and
/// the last.</summary>
[MemoryDiagnoser]
public class FutureLifecycleBenchmarks
{
    private int _i;

    [Benchmark(Description = "Future: new, set running, set result, result")]
    public int Future()
    {
        var f = new Future<int>();
        f.SetRunningOrNotifyCancel();
        f.SetResult(++_i);
        return f.Result();
    }

    [Benchmark(Baseline = true, Description = "TaskCompletionSource: new, set result, result")]
    public int TaskCompletionSource()
    {
        var tcs = new TaskCompletionSource<int>();
        tcs.SetResult(++_i);
        return tcs.Task.Result;
    }
}
