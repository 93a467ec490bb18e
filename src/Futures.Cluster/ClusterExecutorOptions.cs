using CsFutures.Cluster.Contracts;
using CsFutures.Processes;
using CsFutures.Telemetry;
namespace CsFutures.Cluster;

/// <summary>
/// How a <see cref="ClusterExecutor"/> reaches its cluster and treats failures: the arguments of the
/// Python face <c>ClusterExecutor(address=None, *, max_workers, allowed_failures, max_payload)</c>.
/// </summary>
public sealed class ClusterExecutorOptions
{
    /// <summary>Gateways of a running cluster, <c>HOST:PORT</c>, several separated by commas, or the
    /// <c>redis://[:PASSWORD@]HOST:PORT</c> holding its membership (any gateway listed there); <c>null</c>
    /// starts (or shares) the embedded in-process node (Dask: <c>Client()</c> with its
    /// <c>LocalCluster</c>), which then needs <see cref="LocalWorker"/>.</summary>
    public string? Address { get; init; }

    /// <summary>The executor's name, the <see cref="FuturesTelemetry.ExecutorTag"/> of its metrics
    /// (<see cref="ClusterTelemetry"/>); <c>null</c> names it <c>ClusterExecutor-{k}</c>, k counting
    /// cluster executors in the process.</summary>
    public string? Name { get; init; }

    /// <summary>Lost attempts a task may survive: Dask's <c>distributed.scheduler.allowed-failures</c>.
    /// The <c>allowedFailures + 1</c>-th loss fails its future with <see cref="KilledWorkerException"/>.</summary>
    public int AllowedFailures { get; init; } = 3;

    /// <summary>The largest payload <see cref="ClusterExecutor.Submit"/> accepts (default 64 MiB); a larger
    /// one fails its future with <see cref="PayloadTooLargeException"/>.</summary>
    public int MaxPayload { get; init; } = 64 * 1024 * 1024;

    /// <summary>How long one run of a task may take in its worker before the worker is killed and the
    /// future fails with <see cref="TimeoutException"/> (no retry); <c>null</c>, the default, for no limit.
    /// Python: <c>task_timeout</c>.</summary>
    public TimeSpan? TaskTimeout { get; init; }

    /// <summary>The most tasks held by nodes at once (queued ones wait); <c>null</c>, the default, for no
    /// cap. <c>python -m cs_futures --cluster</c> sets it from a script's <c>ProcessPoolExecutor(max_workers)</c>.</summary>
    public int? MaxInFlight { get; init; }

    /// <summary>How long a node's <see cref="ITaskSource.Take"/> is held when there is no work.</summary>
    public TimeSpan TakeHold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the executor reads the cluster's membership to find dead nodes.</summary>
    public TimeSpan MembershipPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>After a first successful connection, how long the membership may stay unreadable before
    /// every pending future fails with <see cref="ClusterUnavailableException"/>.</summary>
    public TimeSpan ClusterLostTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Orleans' response timeout for this executor's calls (Orleans' default, 30 s, when null).</summary>
    public TimeSpan? ResponseTimeout { get; init; }

    /// <summary>The worker program of the embedded node (only when <see cref="Address"/> is null). The
    /// first embedded executor of the process starts the node with it; later ones share that node.</summary>
    public ProcessPoolExecutorOptions? LocalWorker { get; init; }

    /// <summary>This executor's TLS certificate: a PEM file holding the certificate and its private key, or
    /// a PFX file (without password). With <see cref="TlsCa"/> (both or neither), the executor connects to
    /// the gateways with mutual TLS: it presents this certificate and accepts a node's only when it chains
    /// to <see cref="TlsCa"/>. The nodes must run with <c>--tls-cert</c> and <c>--tls-ca</c>
    /// (<see cref="ClusterNodeOptions.TlsCertificate"/>), and their authority must have signed this
    /// certificate. Not used by the embedded node.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>A PEM file of the authority (one or more certificates) whose certificates the executor
    /// accepts from the nodes; the only trust anchor (the system store is not consulted, revocation and host
    /// names are not checked). See <see cref="TlsCertificate"/>.</summary>
    public string? TlsCa { get; init; }

    /// <summary>Where the executor logs its decisions, one line each: nodes lost and the evidence, the
    /// watchdog's actions (<see cref="ClusterExecutor.WatchdogActions"/>). Null, the default: not logged
    /// (still counted).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>How long the executor tries to reach a gateway before it gives up: then every pending
    /// future fails with <see cref="ClusterUnavailableException"/> (its message names the likely cause, e.g.
    /// TLS certificates) and the executor is broken. Default 30 s; null retries until shutdown (tasks
    /// submitted before any node is up wait for one).</summary>
    public TimeSpan? ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The watchdog's stall bound: tasks queued, no node's <see cref="ITaskSource.Take"/> for this
    /// long, and a node reporting idle workers is a stall; the watchdog then registers the executor again,
    /// and again every such bound while the stall lasts. Default 10 s.</summary>
    public TimeSpan WatchdogStallBound { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a stall (<see cref="WatchdogStallBound"/>) may last once seen before the watchdog
    /// gives up: every pending future fails with <see cref="ClusterUnavailableException"/> and the executor
    /// is broken. Default 60 s.</summary>
    public TimeSpan WatchdogGiveUpAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a node holding this executor's tasks may report no busy worker before the
    /// watchdog takes the tasks assigned to it before then back to the queue
    /// (<see cref="ClusterExecutor.Reclaimed"/>). Default 30 s.</summary>
    public TimeSpan WatchdogOrphanBound { get; init; } = TimeSpan.FromSeconds(30);
}
