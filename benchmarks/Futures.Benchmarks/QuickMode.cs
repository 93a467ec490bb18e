using System.Diagnostics;
using CsFutures;

namespace Futures.Benchmarks;

/// <summary>A Stopwatch loop for CI smoke runs: several rounds, each running every side on a few
/// batches, with the order of ours and the baselines reversed every other round; reports the median
/// ns/task over the rounds and the ratios.</summary>
public static class QuickMode
{
    private const int Rounds = 9;
    private const int BatchesPerRound = 40;

    public static int Run(string[] args)
    {
        double? maxRatio = null;
        int at = Array.IndexOf(args, "--max-ratio");
        if (at >= 0 && at + 1 < args.Length)
        {
            maxRatio = double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
        }
        const int n = OverheadBenchmarks.N;
        var total = Stopwatch.StartNew();
        using var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        var futures = new Future<int>[n];
        var tasks = new Task<int>[n];
        var results = new int[n];

        var sides = new (string Label, bool Ours, Func<long> Batch)[]
        {
            ("TPE(4) Submit+Result", true, () => Workloads.SubmitThenResult(executor, futures)),
            ("TPE(4) Map", true, () => Workloads.Map(executor, n)),
            ("TPE(4) AsCompleted", true, () => Workloads.AsCompleted(executor, futures)),
            (RatioTable.TaskRun, false, () => Workloads.TaskRunWhenAll(tasks)),
            (RatioTable.Uquwi, false, () => Workloads.ThreadPoolCountdown(results)),
        };
        var samples = sides.Select(_ => new List<double>()).ToArray();

        // Warm-up round (JIT, lazily started workers, .NET pool threads), not counted.
        foreach (var side in sides)
        {
            Measure(side.Batch, 20);
        }
        for (int round = 0; round < Rounds; round++)
        {
            // Even rounds: ours first; odd rounds: baselines first.
            var order = Enumerable.Range(0, sides.Length)
                .OrderBy(i => sides[i].Ours == (round % 2 == 0) ? 0 : 1)
                .ToArray();
            var line = new List<string>();
            foreach (int i in order)
            {
                double v = Measure(sides[i].Batch, BatchesPerRound);
                samples[i].Add(v);
                line.Add($"{sides[i].Label.Split(' ').Last()}={v:F0}");
            }
            double roundRatio = samples[0][^1] / samples[3][^1];
            Console.WriteLine($"round {round} ({(round % 2 == 0 ? "ours first" : "baselines first")}): " +
                $"{string.Join(" ", line)} ns/task; Submit+Result/Task.Run={roundRatio:F2}x");
        }
        var rows = sides.Select((s, i) => (s.Label, Median(samples[i]))).ToList();
        RatioTable.Print($"quick mode, median of {Rounds} rounds x {BatchesPerRound} batches", rows);
        double ratio = rows[0].Item2 / rows[3].Item2;
        Console.WriteLine($"quick mode finished in {total.Elapsed.TotalSeconds:F1} s; " +
            $"Submit+Result / Task.Run+WhenAll = {ratio:F2}x");
        if (maxRatio is { } max && ratio > max)
        {
            Console.WriteLine($"FAIL: ratio {ratio:F2}x above --max-ratio {max}");
            return 1;
        }
        return 0;
    }

    private static double Measure(Func<long> batch, int batches)
    {
        const int n = OverheadBenchmarks.N;
        long expected = Workloads.ExpectedSum(n);
        var sw = Stopwatch.StartNew();
        for (int b = 0; b < batches; b++)
        {
            long sum = batch();
            if (sum != expected)
            {
                throw new InvalidOperationException($"wrong sum {sum}, expected {expected}");
            }
        }
        return sw.Elapsed.TotalNanoseconds / ((double)batches * n);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
