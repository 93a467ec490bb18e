// Trivial Python function calls per second: submitted from C# to a cs_futures ThreadPoolExecutor
// (SubmitPython<long>, result converted to long), against the same function submitted from Python to
// CPython's concurrent.futures.ThreadPoolExecutor in a python3 subprocess (timed with timeit). Both
// submit all calls, then take every result. Rounds alternate the two sides; the best round counts.
// Then the same with processes: a cs_futures PythonProcessPoolExecutor(2) from C# against CPython's
// ProcessPoolExecutor(2), with a quarter as many calls.
using System.Diagnostics;
using System.Globalization;
using CsFutures;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;

int calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
int[] workerCounts = { 1, 2, 4 };

using var python = PythonRuntime.Start(new PythonRuntimeOptions());
string module = Path.Combine(Path.GetTempPath(), $"csf_bench_{Environment.ProcessId}.py");
const string Source = "def f(x):\n    return x\n";
File.WriteAllText(module, Source);
var fn = python.GetCallable(module, "f");
Console.WriteLine($"Python {python.Version.Split(' ')[0]} ({python.Location.LibraryPath}); {calls} calls per round, best of {rounds}");

var dotnet = new Dictionary<int, double>();
var cpython = new Dictionary<int, double>();
foreach (int workers in workerCounts)
{
    for (int round = 0; round < rounds; round++)
    {
        dotnet[workers] = Math.Max(dotnet.GetValueOrDefault(workers), RunDotNet(workers));
        cpython[workers] = Math.Max(cpython.GetValueOrDefault(workers), RunCPython(workers));
    }
}

Console.WriteLine();
Console.WriteLine("| workers | cs_futures from C# (calls/s) | CPython ThreadPoolExecutor (calls/s) | ratio |");
Console.WriteLine("|---:|---:|---:|---:|");
foreach (int workers in workerCounts)
{
    Console.WriteLine($"| {workers} | {dotnet[workers],12:N0} | {cpython[workers],12:N0} | {dotnet[workers] / cpython[workers]:0.00}x |");
}

int processCalls = calls / 4;
double dotnetProcess = 0, cpythonProcess = 0;
for (int round = 0; round < rounds; round++)
{
    dotnetProcess = Math.Max(dotnetProcess, RunDotNetProcesses());
    cpythonProcess = Math.Max(cpythonProcess, RunCPython(2, "ProcessPoolExecutor", processCalls));
}
Console.WriteLine();
Console.WriteLine($"| 2 worker processes, {processCalls} calls | cs_futures PythonProcessPoolExecutor from C# (calls/s) | CPython ProcessPoolExecutor (calls/s) | ratio |");
Console.WriteLine("|---|---:|---:|---:|");
Console.WriteLine($"| submit + result | {dotnetProcess,12:N0} | {cpythonProcess,12:N0} | {dotnetProcess / cpythonProcess:0.00}x |");
File.Delete(module);

double RunDotNetProcesses()
{
    using var pool = new PythonProcessPoolExecutor(python, new PythonProcessPoolOptions { MaxWorkers = 2 });
    Task.WaitAll(pool.SubmitPython<long>(fn, 0).AsTask(), pool.SubmitPython<long>(fn, 0).AsTask()); // start both workers
    return CallsPerSecond(processCalls, i => pool.SubmitPython<long>(fn, i));
}

double RunDotNet(int workers)
{
    using var executor = python.CreateExecutor(workers, "bench");
    executor.SubmitPython<long>(fn, 0).Result(); // start a worker and its thread state
    return CallsPerSecond(calls, i => executor.SubmitPython<long>(fn, i));
}

// Submits f(0) .. f(n-1), then takes every result; checks the sum.
static double CallsPerSecond(int n, Func<int, Future<long>> submit)
{
    var futures = new Future<long>[n];
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < n; i++)
    {
        futures[i] = submit(i);
    }
    long sum = 0;
    foreach (var f in futures)
    {
        sum += f.Result();
    }
    clock.Stop();
    if (sum != (long)n * (n - 1) / 2)
    {
        throw new InvalidOperationException("wrong results");
    }
    return n / clock.Elapsed.TotalSeconds;
}

double RunCPython(int workers, string executor = "ThreadPoolExecutor", int? count = null)
{
    int n = count ?? calls;
    // f is imported from the module file, so that worker processes find it by name, as the C# side does.
    string code = $"""
        import sys, timeit
        sys.path.insert(0, {Quote(Path.GetDirectoryName(module)!)})
        from {Path.GetFileNameWithoutExtension(module)} import f
        from concurrent.futures import {executor}
        if __name__ == "__main__":
            ex = {executor}({workers})
            [x.result() for x in [ex.submit(f, 0) for _ in range({workers})]]
            def run():
                fs = [ex.submit(f, i) for i in range({n})]
                return sum(x.result() for x in fs)
            print(timeit.timeit(run, number=1))
            ex.shutdown()
        """;
    var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
    psi.ArgumentList.Add("-c");
    psi.ArgumentList.Add(code);
    using var p = Process.Start(psi)!;
    string output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    return n / double.Parse(output.Trim(), CultureInfo.InvariantCulture);
}

static string Quote(string text) => "'" + text.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
