// Trivial Python function calls per second: submitted from C# to a cs_futures ThreadPoolExecutor
// (SubmitPython<long>, result converted to long), against the same function submitted from Python to
// CPython's concurrent.futures.ThreadPoolExecutor in a python3 subprocess (timed with timeit). Both
// submit all calls, then take every result. Rounds alternate the two sides; the best round counts.
using System.Diagnostics;
using System.Globalization;
using CsFutures;
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
File.Delete(module);

double RunDotNet(int workers)
{
    using var executor = python.CreateExecutor(workers, "bench");
    executor.SubmitPython<long>(fn, 0).Result(); // start a worker and its thread state
    var futures = new Future<long>[calls];
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < calls; i++)
    {
        futures[i] = executor.SubmitPython<long>(fn, i);
    }
    long sum = 0;
    foreach (var f in futures)
    {
        sum += f.Result();
    }
    clock.Stop();
    if (sum != (long)calls * (calls - 1) / 2)
    {
        throw new InvalidOperationException("wrong results");
    }
    return calls / clock.Elapsed.TotalSeconds;
}

double RunCPython(int workers)
{
    string code = Source + $"""
        import timeit
        from concurrent.futures import ThreadPoolExecutor
        ex = ThreadPoolExecutor({workers})
        ex.submit(f, 0).result()
        def run():
            fs = [ex.submit(f, i) for i in range({calls})]
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
    return calls / double.Parse(output.Trim(), CultureInfo.InvariantCulture);
}
