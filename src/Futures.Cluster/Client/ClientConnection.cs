using System.Diagnostics;
using CsFutures.Cluster.Contracts;
using CsFutures.Cluster.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace CsFutures.Cluster.Client;

/// <summary>An Orleans client connected through a static list of gateways, or through the gateways
/// listed in a Redis membership table.</summary>
internal sealed class ClientConnection : IClusterConnection
{
    private readonly IHost _host;

    private ClientConnection(IHost host)
    {
        _host = host;
        GrainFactory = host.Services.GetRequiredService<IClusterClient>();
    }

    public IGrainFactory GrainFactory { get; }

    /// <summary>Connects without TLS, retrying every half second for the default
    /// <see cref="ClusterExecutorOptions.ConnectTimeout"/>.</summary>
    internal static Task<ClientConnection> ConnectAsync(
        string address, TimeSpan? responseTimeout, CancellationToken cancellationToken) =>
        ConnectAsync(address, new ClusterExecutorOptions { Address = address, ResponseTimeout = responseTimeout }, cancellationToken);

    /// <summary>Connects to <paramref name="address"/> with the executor's settings (response timeout,
    /// TLS), retrying every half second until a gateway answers, <paramref name="cancellationToken"/> fires,
    /// or <see cref="ClusterExecutorOptions.ConnectTimeout"/> has passed.</summary>
    /// <exception cref="ArgumentException">Only one of the TLS files is given, or one cannot be read.</exception>
    /// <exception cref="ClusterUnavailableException">No gateway accepted the connection in time; the
    /// message names the likely cause (TLS certificates, or no node up).</exception>
    internal static async Task<ClientConnection> ConnectAsync(
        string address, ClusterExecutorOptions options, CancellationToken cancellationToken)
    {
        var redis = RedisAddress.IsRedis(address) ? RedisAddress.ToOptions(address) : null;
        var gateways = redis is null ? GatewayAddress.Parse(address) : [];
        var tls = ClusterTls.Load(options.TlsCertificate, options.TlsCa);
        var connectTimeout = options.ConnectTimeout;
        long started = Stopwatch.GetTimestamp();
        Exception? lastFailure = null;
        int failures = 0;
        var host = new HostBuilder()
            .UseContentRoot(ClusterNames.ContentRoot)
            .ConfigureServices(services => services.AddSingleton<IHostLifetime, QuietLifetime>())
            .UseOrleansClient(client =>
            {
                if (redis is not null)
                {
                    client.UseRedisClustering(o => o.ConfigurationOptions = redis);
                }
                else
                {
                    client.UseStaticClustering(gateways);
                }
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterNames.ClusterId;
                    o.ServiceId = ClusterNames.ClusterId;
                });
                if (options.ResponseTimeout is { } timeout)
                {
                    client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = timeout);
                }
                if (tls is not null)
                {
                    client.UseTls(tls.Configure);
                }
                client.UseConnectionRetryFilter(async (failure, token) =>
                {
                    lastFailure = failure;
                    failures++;
                    if (connectTimeout is { } bound && Stopwatch.GetElapsedTime(started) >= bound)
                    {
                        return false;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                    return !token.IsCancellationRequested;
                });
            })
            .Build();
        // A bound on the start itself too, in case a connection attempt hangs instead of failing.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (connectTimeout is { } limit)
        {
            bounded.CancelAfter(limit + TimeSpan.FromSeconds(15));
        }
        try
        {
            await host.StartAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            var cause = lastFailure ?? ex;
            string why = tls is null
                ? " If the nodes use TLS (--tls-cert/--tls-ca), the executor needs ClusterExecutorOptions.TlsCertificate and TlsCa from the same authority."
                : " With TLS: the executor's certificate (TlsCertificate) must be signed by the nodes' authority (--tls-ca), and the nodes' certificates by the executor's TlsCa; or no node is up.";
            throw new ClusterUnavailableException(
                $"could not connect to the cluster at {RedisAddress.Redact(address)} within {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s " +
                $"({failures} attempts; last error {cause.GetType().Name}: {cause.Message}).{why}", cause);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new ClientConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _host.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The cluster may be gone; the client is abandoned either way.
        }
        _host.Dispose();
    }
}
