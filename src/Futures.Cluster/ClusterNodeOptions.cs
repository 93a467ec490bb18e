using System.Net;
using CsFutures.Processes;

namespace CsFutures.Cluster;

/// <summary>
/// How a <see cref="ClusterNode"/> joins its cluster and runs tasks: the options of Dask's
/// <c>dask worker</c> (here <c>Futures.Cluster.Node</c>, later <c>python -m cs_futures.cluster worker</c>).
/// </summary>
public sealed class ClusterNodeOptions
{
    /// <summary>The worker program and its settings (<see cref="ProcessPoolExecutorOptions.MaxWorkers"/>
    /// is the node's number of workers). Crash isolation is always on: a worker that dies fails only its
    /// task's attempt.</summary>
    public required ProcessPoolExecutorOptions Worker { get; init; }

    /// <summary>A <c>redis://[:PASSWORD@]HOST:PORT</c> address: the membership is kept in Redis
    /// (Microsoft.Orleans.Clustering.Redis) instead of on a primary node, so any node may die. Then
    /// <see cref="Primary"/> and <see cref="Seed"/> are not used.</summary>
    public string? Redis { get; init; }

    /// <summary>Holds the cluster's membership (Orleans development clustering). Exactly one node is the
    /// primary; when it dies, the cluster is gone.</summary>
    public bool Primary { get; init; }

    /// <summary>The primary's silo endpoint, for the other nodes.</summary>
    public IPEndPoint? Seed { get; init; }

    /// <summary>The address to listen on and advertise; loopback unless told otherwise (whoever reaches
    /// the ports can run code on the node).</summary>
    public IPAddress Listen { get; init; } = IPAddress.Loopback;

    /// <summary>The silo-to-silo port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>The port executors connect to; 0 picks a free one.</summary>
    public int GatewayPort { get; init; }

    /// <summary>Orleans' response timeout (30 s when null). Tasks may run longer: no call is held while
    /// a task runs.</summary>
    public TimeSpan? ResponseTimeout { get; init; }

    /// <summary>Orleans' membership probe timeout (how fast a dead node is noticed; 3 missed probes
    /// declare it dead).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where the node serves its dashboard (<c>--dashboard PORT</c>): the cluster's page at
    /// <c>/</c> (nodes, workers, executors, tasks queued, running, done and failed, tasks per second),
    /// its figures as JSON at <c>/api/cluster</c>, and Orleans' own dashboard at <c>/orleans/</c>. Null
    /// (the default): no dashboard. The dashboard has no authentication: keep it on loopback unless the
    /// network is trusted.</summary>
    public IPEndPoint? Dashboard { get; init; }

    /// <summary>The largest result returned (default 64 MiB); a larger one fails only its future.</summary>
    public int MaxResult { get; init; } = DefaultMaxResult;

    internal const int DefaultMaxResult = 64 * 1024 * 1024;

    /// <summary>Where the node logs, one line each: joins, deaths, its own start and stop, its decisions
    /// (directory listings, pull loops started and stopped and why, result batches sent again), and
    /// Orleans' own warnings and errors (<c>orleans warning ...</c>; Orleans' information is left out).
    /// Null: the node logs nothing.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The node's TLS certificate: a PEM file holding the certificate and its private key, or a
    /// PFX file (without password). With <see cref="TlsCa"/> (both or neither), silo-to-silo and gateway
    /// connections use mutual TLS: both ends present a certificate, and a peer's is accepted only when it
    /// chains to <see cref="TlsCa"/>; executors then need
    /// <see cref="ClusterExecutorOptions.TlsCertificate"/>. The certificate serves as server and client
    /// certificate (no Extended Key Usage, or both).</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>A PEM file of the authority (one or more certificates) whose certificates the node accepts
    /// from other nodes and from executors; the only trust anchor (the system store is not consulted,
    /// revocation and host names are not checked). See <see cref="TlsCertificate"/>.</summary>
    public string? TlsCa { get; init; }

    /// <summary>Adds to the node's silo (the node program adds Orleans' dashboard services here, on every
    /// node, since their grains may activate on any silo).</summary>
    public Action<Orleans.Hosting.ISiloBuilder>? ConfigureSilo { get; set; }

    /// <summary>Adds to the node's host (the node program adds the <see cref="Dashboard"/> web server
    /// here; a node with <see cref="Dashboard"/> set needs it).</summary>
    public Action<Microsoft.Extensions.Hosting.IHostBuilder>? ConfigureHost { get; set; }
}
