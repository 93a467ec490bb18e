using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Futures.Benchmarks;

/// <summary>
/// Modes:
///   (none)     BenchmarkDotNet, short job (about 3-4 minutes on 2 cores); BDN arguments pass through
///              (e.g. --filter '*Map*').
///   --quick    Stopwatch loop alternating ours and the baselines (about 20 s), for CI smoke;
///              --max-ratio X makes it exit 1 when Submit+Result / Task.Run+WhenAll exceeds X.
///   --quick --telemetry  what the instrumentation costs: Submit+Result with no listener, with a
///              MeterListener on the "CsFutures" meter, and with an ActivityListener too (about 30 s).
///   --stress   correctness: 1,000,000 tiny tasks from 2 submitters, wake-ups, shutdown, collection.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Contains("--quick") && args.Contains("--telemetry"))
        {
            return TelemetryMode.Run();
        }
        if (args.Contains("--quick"))
        {
            return QuickMode.Run(args);
        }
        if (args.Contains("--stress"))
        {
            return StressMode.Run(args);
        }
        var job = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithId("Short");
        var config = DefaultConfig.Instance.AddJob(job.AsDefault());
        var summary = BenchmarkSwitcher.FromTypes([typeof(OverheadBenchmarks), typeof(FutureLifecycleBenchmarks)])
            .Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        foreach (var s in summary)
        {
            PrintRatios(s);
        }
        return 0;
    }

    private static void PrintRatios(Summary summary)
    {
        var ns = new Dictionary<string, double>();
        foreach (var report in summary.Reports)
        {
            if (report.ResultStatistics is { } stats)
            {
                ns[report.BenchmarkCase.Descriptor.WorkloadMethod.Name] = stats.Median;
            }
        }
        var rows = new (string Key, string Label)[]
        {
            ("SubmitResult", "TPE(4) Submit+Result"),
            ("Map", "TPE(4) Map"),
            ("AsCompleted", "TPE(4) AsCompleted"),
            ("TaskRunWhenAll", "Task.Run+WhenAll"),
            ("ThreadPoolCountdown", "ThreadPool.UQUWI+countdown"),
        };
        RatioTable.Print("BenchmarkDotNet medians", rows.Where(r => ns.ContainsKey(r.Key))
            .Select(r => (r.Label, ns[r.Key])).ToList());
    }
}

/// <summary>The table both modes print: ns/task, and each of ours over each baseline.</summary>
public static class RatioTable
{
    public const string TaskRun = "Task.Run+WhenAll";
    public const string Uquwi = "ThreadPool.UQUWI+countdown";

    public static void Print(string title, IReadOnlyList<(string Label, double NsPerTask)> rows)
    {
        double? taskRun = rows.Where(r => r.Label == TaskRun).Select(r => (double?)r.NsPerTask).FirstOrDefault();
        double? uquwi = rows.Where(r => r.Label == Uquwi).Select(r => (double?)r.NsPerTask).FirstOrDefault();
        Console.WriteLine();
        Console.WriteLine($"== {title}: ns per task (N={OverheadBenchmarks.N} per batch) ==");
        Console.WriteLine($"| {"side",-28} | {"ns/task",9} | {"/ Task.Run",10} | {"/ UQUWI",8} |");
        Console.WriteLine($"|{new string('-', 30)}|{new string('-', 11)}|{new string('-', 12)}|{new string('-', 10)}|");
        foreach (var (label, value) in rows)
        {
            string r1 = taskRun is { } t ? $"{value / t:F2}x" : "-";
            string r2 = uquwi is { } u ? $"{value / u:F2}x" : "-";
            Console.WriteLine($"| {label,-28} | {value,9:F1} | {r1,10} | {r2,8} |");
        }
    }
}
