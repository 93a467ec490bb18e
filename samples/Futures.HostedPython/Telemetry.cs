using CsFutures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using CsFutures.Telemetry;

namespace Futures.HostedPython;

/// <summary>The "Telemetry" section of appsettings.json.</summary>
public sealed class TelemetrySettings
{
    /// <summary>Print the executors' metrics (meter "CsFutures") to the console when the host stops.</summary>
    public bool ConsoleMetrics { get; set; } = true;

    /// <summary>Print the spans of the traced root (and of the tasks submitted under it) to the console.</summary>
    public bool ConsoleTraces { get; set; } = true;

    /// <summary>The root span recorded with its children; other roots are dropped (keeps the output short).</summary>
    public string TracedRoot { get; set; } = BatchWorker.PrimesSpan;

    /// <summary>Serve the metrics for Prometheus on this port at <c>/metrics</c> (0: off).</summary>
    public int PrometheusPort { get; set; }

    /// <summary>Where the Prometheus endpoint listens: loopback unless told otherwise.</summary>
    public string PrometheusHost { get; set; } = "127.0.0.1";
}

/// <summary>OpenTelemetry for the executors: the engine's meter and activity source, by name.</summary>
public static class Telemetry
{
    public static IServiceCollection AddExecutorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.Get<TelemetrySettings>() ?? new TelemetrySettings();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("Futures.HostedPython"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FuturesTelemetry.MeterName);
                var buckets = new ExplicitBucketHistogramConfiguration { Boundaries = [0.001, 0.01, 0.1, 1, 10] };
                metrics.AddView(FuturesTelemetry.Names.Duration, buckets);
                metrics.AddView(FuturesTelemetry.Names.QueueWait, buckets);
                if (settings.ConsoleMetrics)
                {
                    // Exported once, as the host stops (the provider flushes when it is disposed).
                    metrics.AddConsoleExporter((_, reader) =>
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000);
                }
                if (settings.PrometheusPort > 0)
                {
                    metrics.AddPrometheusHttpListener(o =>
                    {
                        o.Host = settings.PrometheusHost;
                        o.Port = settings.PrometheusPort;
                    });
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(FuturesTelemetry.ActivitySourceName, BatchWorker.SourceName)
                    .SetSampler(new ParentBasedSampler(new NamedRootSampler(settings.TracedRoot)));
                if (settings.ConsoleTraces)
                {
                    tracing.AddConsoleExporter();
                }
            });
        return services;
    }

    /// <summary>Records root spans of one name only; their children follow their parent (ParentBasedSampler).</summary>
    private sealed class NamedRootSampler(string name) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.Name == name ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
    }
}
