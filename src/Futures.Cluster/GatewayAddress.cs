using System.Net;

namespace CsFutures.Cluster;

/// <summary>Cluster addresses of the form <c>HOST:PORT[,HOST:PORT...]</c>: gateways (or a seed node) under
/// static clustering, read by executors and by the node program alike (beside <see cref="RedisAddress"/>).</summary>
internal static class GatewayAddress
{
    /// <summary><c>HOST:PORT[,HOST:PORT...]</c> to endpoints.</summary>
    internal static IPEndPoint[] Parse(string address)
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
}
