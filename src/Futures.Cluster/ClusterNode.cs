using System.Net.Sockets;
using System.Net;
using CsFutures.Cluster.Contracts;
using CsFutures.Cluster.Node;
using CsFutures.Cluster.Security;
using CsFutures.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace CsFutures.Cluster;

/// <summary>
/// A worker node: an Orleans silo that pulls tasks from the cluster's executors and runs them on a local
/// <see cref="ProcessPoolExecutor"/> (Dask: a <c>dask worker</c> with its nanny).
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly ClusterNodeOptions _options;
    private readonly NodeState _state;
    private readonly IHost _host;
    private readonly Action<string> _log;
    private readonly object _stopLock = new();
    private Task? _stopping;

    /// <summary>Builds the node (nothing starts before <see cref="StartAsync"/>); ports given as 0 are
    /// chosen free now.</summary>
    /// <exception cref="ArgumentException">Neither <see cref="ClusterNodeOptions.Primary"/> nor
    /// <see cref="ClusterNodeOptions.Seed"/>; only one of <see cref="ClusterNodeOptions.TlsCertificate"/> and
    /// <see cref="ClusterNodeOptions.TlsCa"/>, or a TLS file that cannot be read.</exception>
    /// <param name="options">How the node joins and runs tasks.</param>
    /// <param name="logging">Where the host's log entries (Orleans' own) go, at warning and above; null
    /// writes them to <see cref="ClusterNodeOptions.Log"/>.</param>
    public ClusterNode(ClusterNodeOptions options, ILoggerProvider? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Redis is null && !options.Primary && options.Seed is null)
        {
            throw new ArgumentException("a node is the primary, joins a seed, or keeps the membership in Redis", nameof(options));
        }
        var redis = options.Redis is { } address ? RedisAddress.ToOptions(address) : null;
        var tls = ClusterTls.Load(options.TlsCertificate, options.TlsCa);
        _options = options;
        _log = options.Log ?? (_ => { });
        SiloEndpoint = new IPEndPoint(options.Listen, options.Port != 0 ? options.Port : FreePort(options.Listen));
        GatewayEndpoint = new IPEndPoint(options.Listen, options.GatewayPort != 0 ? options.GatewayPort : FreePort(options.Listen));
        // A node's workers are isolated: a crash costs its own task only. Workers that answer
        // FrameKind.TracedTask (cs_futures' Python worker, the tests' echo worker; --trace-workers): while
        // someone listens, a task's span in its worker process is a child of the node's, itself a child of
        // the submitter's (ClusterTelemetry).
        var pool = new ProcessPoolExecutor(options.Worker with { IsolateCrashes = true });
        _state = new NodeState(pool, options.MaxResult);
        var chaos = Chaos.ChaosSettings.FromEnvironment(_log);
        var primary = options.Primary ? SiloEndpoint : options.Seed;
        var host = new HostBuilder()
            .UseContentRoot(ClusterNames.ContentRoot)
            .ConfigureServices(services => services.AddSingleton<IHostLifetime, QuietLifetime>())
            .ConfigureLogging(l =>
            {
                l.ClearProviders();
                l.SetMinimumLevel(LogLevel.Warning);
                if (logging is not null)
                {
                    l.AddProvider(logging);
                }
                else if (options.Log is { } lines)
                {
                    // Orleans' own warnings and errors (a silo declared dead, a lost connection, a grain
                    // call that failed) go to the node's log; without a log, the node stays silent.
                    l.AddProvider(new LogLineProvider(lines));
                }
            })
            .UseOrleans(silo =>
            {
                if (redis is not null)
                {
                    silo.UseRedisClustering(o => o.ConfigurationOptions = redis);
                }
                else
                {
                    silo.UseDevelopmentClustering(primary!);
                }
                silo.Configure<EndpointOptions>(o =>
                {
                    o.AdvertisedIPAddress = options.Listen;
                    o.SiloPort = SiloEndpoint.Port;
                    o.GatewayPort = GatewayEndpoint.Port;
                    o.SiloListeningEndpoint = SiloEndpoint;
                    o.GatewayListeningEndpoint = GatewayEndpoint;
                });
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterNames.ClusterId;
                    o.ServiceId = ClusterNames.ClusterId;
                });
                silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = options.ProbeTimeout);
                if (tls is not null)
                {
                    // Silo-to-silo and gateway connections, both directions.
                    silo.UseTls(tls.Configure);
                }
                if (options.ResponseTimeout is { } timeout)
                {
                    silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = timeout);
                }
                if (chaos is not null)
                {
                    // Tests only (CS_FUTURES_CLUSTER_CHAOS): faults injected into this node's calls.
                    silo.AddOutgoingGrainCallFilter(new Chaos.ChaosOutgoingFilter(chaos));
                    silo.AddIncomingGrainCallFilter(new Chaos.ChaosIncomingFilter(chaos));
                }
                // The node program adds Orleans' dashboard here (its grains may activate on any silo).
                options.ConfigureSilo?.Invoke(silo);
            })
            .ConfigureServices(services =>
            {
                services.AddSingleton(_state);
                services.AddSingleton(_log);
                services.AddSingleton<NodeCounters>();
                services.AddHostedService<TaskPuller>();
                services.AddHostedService<MembershipLog>();
                services.AddHostedService<NodeStatsReporter>();
            });
        if (options.Dashboard is { } dashboard)
        {
            if (options.ConfigureHost is null)
            {
                throw new ArgumentException("the dashboard is served by the node program (Futures.Cluster.Node, or python -m cs_futures.cluster worker)", nameof(options));
            }
            DashboardEndpoint = dashboard;
        }
        options.ConfigureHost?.Invoke(host);
        _host = host.Build();
    }

    /// <summary>The silo-to-silo endpoint (what <c>--seed</c> names).</summary>
    public IPEndPoint SiloEndpoint { get; }

    /// <summary>The endpoint executors connect to (<see cref="ClusterExecutorOptions.Address"/>).</summary>
    public IPEndPoint GatewayEndpoint { get; }

    /// <summary>Where the dashboard is served (<see cref="ClusterNodeOptions.Dashboard"/>), or null.</summary>
    public IPEndPoint? DashboardEndpoint { get; }

    /// <summary>The node's id in the cluster (its silo address); empty before <see cref="StartAsync"/>.</summary>
    public string NodeId => _state.NodeId;

    /// <summary>The worker processes alive now.</summary>
    public IReadOnlyList<WorkerProcessInfo> Workers => _state.Pool.Workers;

    /// <summary>The silo's grain factory (the embedded executor calls through it).</summary>
    internal IGrainFactory GrainFactory => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts the silo and joins the cluster.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _host.StartAsync(cancellationToken).ConfigureAwait(false);
        _log($"node started: {NodeId} silo {SiloEndpoint} gateway {GatewayEndpoint}" + (_options.Redis is not null ? " (membership in Redis)" : _options.Primary ? " (primary)" : "") + (_options.TlsCertificate is not null ? " (mutual TLS)" : "")
            + (DashboardEndpoint is { } dashboard ? $" dashboard http://{dashboard}/ (Orleans' dashboard at http://{dashboard}{ClusterNames.OrleansDashboardPrefix}/)" : ""));
    }

    /// <summary>How long the silo may take to leave the cluster before the node stops without it: with the
    /// membership store (Redis) or every other node gone, Orleans retries its membership writes for
    /// minutes.</summary>
    internal static readonly TimeSpan SiloStopTimeout = TimeSpan.FromSeconds(6);

    /// <summary>Leaves the cluster and stops the worker processes (running tasks are lost here and
    /// re-run elsewhere by their executors). Bounded: the silo gets <see cref="SiloStopTimeout"/> to leave
    /// (less when <paramref name="cancellationToken"/> fires), then the workers are stopped anyway (killed
    /// when they do not exit within seconds). Calling it again returns the first call's task.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_stopLock)
        {
            return _stopping ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(SiloStopTimeout);
            var silo = _host.StopAsync(bound.Token);
            // Orleans may not give up at the token (its membership writes are retried): wait no longer.
            var limit = Task.Delay(Timeout.InfiniteTimeSpan, bound.Token);
            if (await Task.WhenAny(silo, limit).ConfigureAwait(false) != silo)
            {
                _ = silo.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                _log($"the silo did not leave the cluster within {SiloStopTimeout.TotalSeconds:F0} s (membership unreachable?): stopping without it");
            }
            else
            {
                await silo.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            _log("the silo's stop was cut short");
        }
        finally
        {
            StopWorkers();
            _log($"node stopped: {NodeId}");
        }
    }

    /// <summary>Kills the worker processes at once (the node program's second signal).</summary>
    internal void KillWorkers() => _state.Pool.KillWorkers();

    /// <summary>Stops the node (<see cref="StopAsync"/>) and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _host.Dispose();
        }
    }

    private void StopWorkers()
    {
        var pool = _state.Pool;
        pool.Shutdown(wait: false, cancelFutures: true);
        if (!pool.Join(TimeSpan.FromSeconds(1.5)))
        {
            pool.KillWorkers();
            pool.Join(TimeSpan.FromSeconds(1.5));
        }
    }

    private static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
