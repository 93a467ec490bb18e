using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace CsFutures.Cluster;

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

    /// <summary>Connects, retrying every half second until a gateway answers or
    /// <paramref name="cancellationToken"/> fires.</summary>
    internal static async Task<ClientConnection> ConnectAsync(
        string address, TimeSpan? responseTimeout, CancellationToken cancellationToken)
    {
        var redis = RedisAddress.IsRedis(address) ? RedisAddress.ToConfiguration(address) : null;
        var gateways = redis is null ? ParseGateways(address) : [];
        var host = new HostBuilder()
            .UseContentRoot(ClusterNames.ContentRoot)
            .ConfigureServices(services => services.AddSingleton<IHostLifetime, QuietLifetime>())
            .UseOrleansClient(client =>
            {
                if (redis is not null)
                {
                    client.UseRedisClustering(redis);
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
                if (responseTimeout is { } timeout)
                {
                    client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = timeout);
                }
                client.UseConnectionRetryFilter(async (_, token) =>
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                    return !token.IsCancellationRequested;
                });
            })
            .Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new ClientConnection(host);
    }

    /// <summary><c>HOST:PORT[,HOST:PORT...]</c> to endpoints.</summary>
    internal static IPEndPoint[] ParseGateways(string address)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var part in address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(part[(colon + 1)..], out int port))
            {
                throw new ArgumentException($"expected HOST:PORT, got '{part}'", nameof(address));
            }
            string hostName = part[..colon].Trim('[', ']');
            var ip = IPAddress.TryParse(hostName, out var parsed)
                ? parsed
                : Dns.GetHostAddresses(hostName).First();
            endpoints.Add(new IPEndPoint(ip, port));
        }
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("no gateway address", nameof(address));
        }
        return [.. endpoints];
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
