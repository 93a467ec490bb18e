using System.Diagnostics;
using System.Diagnostics.Metrics;
using CsFutures;
using CsFutures.Telemetry;

namespace Futures.Benchmarks;

/// <summary>
/// What the instrumentation costs (<c>--quick --telemetry</c>): TPE(4) Submit+Result on trivial tasks,
/// with no listener, with a <see cref="MeterListener"/> on every instrument of the "CsFutures" meter
/// (an empty callback: the cost of the measurements, not of an exporter), and with that plus an
/// <see cref="ActivityListener"/> recording every task span, under a submitting span. Rounds alternate
/// the order of the three sides; the medians and the ratios to "no listener" are printed.
/// </summary>
public static class TelemetryMode
{
    private const int Rounds = 9;
    private const int BatchesPerRound = 30;

    public static int Run()
    {
        const int n = OverheadBenchmarks.N;
        using var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        var futures = new Future<int>[n];
        var sides = new (string Label, Func<IDisposable?> Attach)[]
        {
            ("no listener", () => null),
            ("MeterListener", AttachMeters),
            ("meters + ActivityListener", AttachMetersAndActivities),
        };
        var samples = sides.Select(_ => new List<double>()).ToArray();
        foreach (var side in sides)
        {
            using var attached = side.Attach();
            Measure(executor, futures, 10);
        }
        for (int round = 0; round < Rounds; round++)
        {
            var order = Enumerable.Range(0, sides.Length).Select(i => (i + round) % sides.Length).ToArray();
            var line = new List<string>();
            foreach (int i in order)
            {
                using var attached = sides[i].Attach();
                double v = Measure(executor, futures, BatchesPerRound);
                samples[i].Add(v);
                line.Add($"{sides[i].Label}={v:F0}");
            }
            Console.WriteLine($"round {round}: {string.Join("; ", line)} ns/task");
        }
        double baseline = Median(samples[0]);
        Console.WriteLine();
        Console.WriteLine($"== instrumentation cost: TPE(4) Submit+Result, ns per task (median of {Rounds} rounds x {BatchesPerRound} batches of {n}) ==");
        Console.WriteLine($"| {"listeners",-26} | {"ns/task",9} | {"/ none",7} |");
        Console.WriteLine($"|{new string('-', 28)}|{new string('-', 11)}|{new string('-', 9)}|");
        for (int i = 0; i < sides.Length; i++)
        {
            double m = Median(samples[i]);
            Console.WriteLine($"| {sides[i].Label,-26} | {m,9:F1} | {m / baseline,6:F2}x |");
        }
        return 0;
    }

    private static double Measure(ThreadPoolExecutor executor, Future<int>[] futures, int batches)
    {
        const int n = OverheadBenchmarks.N;
        long expected = Workloads.ExpectedSum(n);
        using var parent = s_source.StartActivity("submitter"); // null unless an ActivityListener samples it
        var sw = Stopwatch.StartNew();
        for (int b = 0; b < batches; b++)
        {
            if (Workloads.SubmitThenResult(executor, futures) != expected)
            {
                throw new InvalidOperationException("wrong sum");
            }
        }
        return sw.Elapsed.TotalNanoseconds / ((double)batches * n);
    }

    private static readonly ActivitySource s_source = new("Futures.Benchmarks");

    private static IDisposable AttachMeters()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FuturesTelemetry.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.Start();
        return listener;
    }

    private static IDisposable AttachMetersAndActivities()
    {
        var meters = AttachMeters();
        var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name is FuturesTelemetry.ActivitySourceName or "Futures.Benchmarks",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activities);
        return new Both(meters, activities);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
