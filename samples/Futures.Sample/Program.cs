// The C# face of cs_futures: five tasks on a ThreadPoolExecutor, collected as they complete,
// as Python's `for f in as_completed(fs): print(f.result())`.
using System.Diagnostics;
using CsFutures;

var clock = Stopwatch.StartNew();
string Stamp() => $"[{clock.Elapsed.TotalMilliseconds,7:F1} ms]";

using var executor = new ThreadPoolExecutor(maxWorkers: 3, threadNamePrefix: "sample");
var futures = new List<Future<string>>();
foreach (int n in new[] { 5, 1, 4, 2, 3 })
{
    futures.Add(executor.Submit(() =>
    {
        Console.WriteLine($"{Stamp()} task {n} starts on {Thread.CurrentThread.Name}");
        Thread.Sleep(n * 40); // stands for real work of n units
        Console.WriteLine($"{Stamp()} task {n} completes");
        return $"task {n} took {n * 40} ms";
    }));
}

int collected = 0;
foreach (var future in Futures.AsCompleted(futures, timeout: TimeSpan.FromSeconds(30)))
{
    collected++;
    Console.WriteLine($"{Stamp()} collected {collected}/{futures.Count}: {future.Result()}");
}
Console.WriteLine($"{Stamp()} all {collected} tasks collected with AsCompleted");
