using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CsFutures.Cluster.Client;

/// <summary>
/// Evidence of a node's death that does not wait for Orleans' probes: the executor holds one idle TCP
/// connection to each node's silo endpoint (from its id, <c>HOST:PORT@GENERATION</c>). When that
/// connection closes, it connects again at once; a connection refused on an endpoint that accepted
/// before means nothing listens there any more: the node's process is gone (a SIGKILLed process's
/// sockets are closed by the kernel at once). That node is reported dead, once.
/// </summary>
/// <remarks>Only a refusal after an accepted connection counts, so an endpoint the executor cannot
/// reach (a firewall, another network: timeouts, unreachable hosts, or a refusal from the start) is
/// no evidence; those nodes are left to the membership. A frozen node (SIGSTOP) keeps its sockets
/// open and is left to the membership too. A late result from a node wrongly taken for dead would be
/// dropped as late, so each future still completes once. Not used under TLS (the nodes' TLS layer
/// closes a connection without a handshake after 10 s, with a warning), and a node that closes the
/// idle connection while alive more than twice is no longer watched: both are left to the membership.</remarks>
internal sealed class NodeConnections : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Connections closed by a node that then accepted a new one (alive, closing idle
    /// connections) before the node is no longer watched.</summary>
    private const int MaxClosedByPeer = 2;

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _watched = new();
    private readonly Action<string, string> _dead;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="dead">Called (on a pool thread) with a node found dead and why, once per node.</param>
    internal NodeConnections(Action<string, string> dead)
    {
        _dead = dead;
    }

    /// <summary>Watches each node of <paramref name="nodes"/> not watched yet, and stops watching the
    /// others.</summary>
    internal void Watch(IEnumerable<string> nodes)
    {
        var wanted = nodes.ToHashSet();
        foreach (var node in wanted)
        {
            if (_stop.IsCancellationRequested || _watched.ContainsKey(node) || Parse(node) is not { } endpoint)
            {
                continue;
            }
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            if (_watched.TryAdd(node, cancel))
            {
                _ = Task.Run(() => WatchAsync(node, endpoint, cancel.Token));
            }
            else
            {
                cancel.Dispose();
            }
        }
        foreach (var node in _watched.Keys.Where(n => !wanted.Contains(n)).ToList())
        {
            if (_watched.TryRemove(node, out var cancel))
            {
                cancel.Cancel();
                cancel.Dispose();
            }
        }
    }

    /// <summary>The endpoint of a node id (<c>SiloAddress.ToParsableString()</c>: <c>HOST:PORT@GENERATION</c>).</summary>
    internal static IPEndPoint? Parse(string nodeId)
    {
        int at = nodeId.IndexOf('@', StringComparison.Ordinal);
        var address = at >= 0 ? nodeId[..at] : nodeId;
        int colon = address.LastIndexOf(':');
        return colon > 0 && IPAddress.TryParse(address[..colon].Trim('[', ']'), out var ip) && int.TryParse(address[(colon + 1)..], out int port)
            ? new IPEndPoint(ip, port)
            : null;
    }

    private async Task WatchAsync(string node, IPEndPoint endpoint, CancellationToken token)
    {
        bool accepted = false;
        int closedByPeer = 0;
        var buffer = new byte[64];
        try
        {
            while (!token.IsCancellationRequested)
            {
                using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    using var connect = CancellationTokenSource.CreateLinkedTokenSource(token);
                    connect.CancelAfter(ConnectTimeout);
                    await socket.ConnectAsync(endpoint, connect.Token).ConfigureAwait(false);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && accepted)
                {
                    _dead(node, $"its endpoint {endpoint} refused a connection after its connection closed");
                    return;
                }
                catch (Exception) when (!token.IsCancellationRequested)
                {
                    await Task.Delay(RetryDelay, token).ConfigureAwait(false); // no evidence either way
                    continue;
                }
                if (accepted && ++closedByPeer > MaxClosedByPeer)
                {
                    // The node is alive and its listener closes idle connections (each close may be logged
                    // there): this node is left to the membership.
                    return;
                }
                accepted = true;
                try
                {
                    // Nothing is sent: the read ends when the connection closes (or resets).
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false) > 0)
                    {
                    }
                }
                catch (Exception) when (!token.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var node in _watched.Keys.ToList())
        {
            if (_watched.TryRemove(node, out var cancel))
            {
                cancel.Dispose();
            }
        }
    }
}
