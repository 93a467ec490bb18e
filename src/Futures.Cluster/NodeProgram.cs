using System.Net;
using System.Runtime.InteropServices;
using CsFutures.Processes;

namespace CsFutures.Cluster;

/// <summary>
/// The command line of a node (<c>Futures.Cluster.Node</c>; Dask: <c>dask worker</c>):
/// <code>
/// --cluster redis://HOST:PORT     membership in Redis (any node may die), or:
/// --primary | --seed HOST:PORT    hold the membership, or join the primary's silo port
/// --workers N                     worker processes (default: the number of processors)
/// --listen ADDR                   listen and advertise address (default 127.0.0.1)
/// --port P --gateway-port G       silo and gateway ports (default: free ones)
/// --response-timeout SECONDS      Orleans' response timeout (default 30)
/// --trace-workers                 the worker program answers FrameKind.TracedTask: its task spans join the
///                                 submitter's trace (cs_futures' Python worker does; python -m cs_futures.cluster sets it)
/// --max-result BYTES              the largest result returned (default 64 MiB); a larger one fails its future
/// --tls-cert PATH --tls-ca PATH   mutual TLS (both or neither): this node's certificate and key (PEM or
///                                 PFX), and the PEM authority whose certificates nodes and executors must have
/// --dashboard PORT                the cluster's dashboard on http://ADDR:PORT/ (nodes, workers, executors,
///                                 tasks queued/running/done/failed, tasks per second; JSON at /api/cluster)
///                                 and Orleans' dashboard at /orleans/; no authentication
/// --dashboard-listen ADDR         the dashboard's address (default 127.0.0.1, loopback only: anyone who
///                                 reaches it sees the cluster)
/// --worker-command PROGRAM ARGS...  the worker program; everything after it is its arguments
/// </code>
/// Prints <c>node started: SILO silo HOST:PORT gateway HOST:PORT</c> once it serves, logs joins and
/// deaths, and stops (its workers too) on SIGINT or SIGTERM within 10 s, whatever the state of the
/// cluster (<see cref="StopDeadline"/>); a second signal exits at once, killing the workers.
/// </summary>
public static class NodeProgram
{
    /// <summary>Runs a node until SIGINT or SIGTERM; returns the exit code (2 for a usage error).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="configure">Adds to the parsed options before the node starts (the node program adds its
    /// dashboard: <c>CsFutures.Cluster.Dashboard.DashboardWeb.AddTo</c>).</param>
    public static async Task<int> RunAsync(string[] args, Action<ClusterNodeOptions>? configure = null)
    {
        ClusterNodeOptions options;
        try
        {
            options = Parse(args, Console.WriteLine);
            configure?.Invoke(options);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ClusterNode? node = null;
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // the process stops here, not in the runtime's default handler
            if (Interlocked.Increment(ref signals) == 1)
            {
                stop.TrySetResult();
                return;
            }
            // A second signal: no more waiting for the cluster. The worker processes first.
            Console.WriteLine($"node exiting at once ({context.Signal} again)");
            Volatile.Read(ref node)?.KillWorkers();
            Environment.Exit(context.Signal == PosixSignal.SIGINT ? 130 : 143);
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Volatile.Write(ref node, new ClusterNode(options));
        try
        {
            await node.StartAsync().ConfigureAwait(false);
            await stop.Task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            await StopBoundedAsync(node).ConfigureAwait(false);
            throw;
        }
        Console.WriteLine("node stopping");
        return await StopBoundedAsync(node).ConfigureAwait(false) ? 0 : 1;
    }

    /// <summary>How long a node program may take to stop after a signal (SIGTERM's promise: within 10 s,
    /// the worker processes included) before it kills its workers and exits anyway.</summary>
    internal static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(9);

    // Stops and releases the node within StopDeadline; past it, kills the workers and exits the process.
    private static async Task<bool> StopBoundedAsync(ClusterNode node)
    {
        var stopped = Task.Run(async () => await node.DisposeAsync().ConfigureAwait(false));
        if (await Task.WhenAny(stopped, Task.Delay(StopDeadline)).ConfigureAwait(false) == stopped)
        {
            try
            {
                await stopped.ConfigureAwait(false);
                return true;
            }
            catch (Exception ex)
            {
                Console.WriteLine($"node stop failed: {ex.GetType().Name}: {ex.Message}");
                return false;
            }
        }
        Console.WriteLine($"node stop took over {StopDeadline.TotalSeconds:F0} s: killing the workers and exiting");
        node.KillWorkers();
        Environment.Exit(1);
        return false;
    }

    /// <summary>Parses the command line described on <see cref="NodeProgram"/>.</summary>
    /// <exception cref="ArgumentException">A usage error.</exception>
    public static ClusterNodeOptions Parse(IReadOnlyList<string> args, Action<string>? log = null)
    {
        bool primary = false;
        IPEndPoint? seed = null;
        string? redis = null;
        int? workers = null;
        bool traceWorkers = false;
        var listen = IPAddress.Loopback;
        int port = 0, gatewayPort = 0;
        TimeSpan? responseTimeout = null;
        int? maxResult = null;
        string? tlsCertificate = null, tlsCa = null;
        string? program = null;
        int? dashboardPort = null;
        var dashboardListen = IPAddress.Loopback;
        var programArgs = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--primary": primary = true; break;
                case "--cluster": redis = Value(); RedisAddress.ToConfiguration(redis); break;
                case "--seed": seed = GatewayAddress.Parse(Value())[0]; break;
                case "--workers": workers = int.Parse(Value()); break;
                case "--listen": listen = IPAddress.Parse(Value()); break;
                case "--port": port = int.Parse(Value()); break;
                case "--gateway-port": gatewayPort = int.Parse(Value()); break;
                case "--response-timeout": responseTimeout = TimeSpan.FromSeconds(double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture)); break;
                case "--trace-workers": traceWorkers = true; break;
                case "--max-result":
                    maxResult = int.TryParse(Value(), out int bytes) && bytes > 0
                        ? bytes
                        : throw new ArgumentException($"--max-result needs a positive number of bytes, got '{args[i]}'");
                    break;
                case "--tls-cert": tlsCertificate = Value(); break;
                case "--tls-ca": tlsCa = Value(); break;
                case "--dashboard":
                    dashboardPort = int.TryParse(Value(), out int dashboard) && dashboard is > 0 and <= 65535
                        ? dashboard
                        : throw new ArgumentException($"--dashboard needs a port number, got '{args[i]}'");
                    break;
                case "--dashboard-listen": dashboardListen = IPAddress.Parse(Value()); break;
                case "--worker-command":
                    program = Value();
                    programArgs.AddRange(args.Skip(i + 1));
                    i = args.Count;
                    break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if ((primary ? 1 : 0) + (seed is null ? 0 : 1) + (redis is null ? 0 : 1) != 1)
        {
            throw new ArgumentException("give one of --cluster redis://HOST:PORT, --primary, --seed HOST:PORT");
        }
        if ((tlsCertificate is null) != (tlsCa is null))
        {
            throw new ArgumentException("give both --tls-cert PATH (this node's certificate and key) and --tls-ca PATH (the authority), or neither");
        }
        if (tlsCertificate is not null)
        {
            // Read now: a bad file is a usage error, not a crash at start.
            _ = Security.ClusterTls.Load(tlsCertificate, tlsCa);
        }
        if (dashboardPort is null && !dashboardListen.Equals(IPAddress.Loopback))
        {
            throw new ArgumentException("--dashboard-listen ADDR needs --dashboard PORT");
        }
        if (program is null)
        {
            throw new ArgumentException("--worker-command PROGRAM [ARGS...] is required");
        }
        return new ClusterNodeOptions
        {
            Redis = redis,
            Primary = primary,
            Seed = seed,
            Listen = listen,
            Port = port,
            GatewayPort = gatewayPort,
            ResponseTimeout = responseTimeout,
            MaxResult = maxResult ?? ClusterNodeOptions.DefaultMaxResult,
            TlsCertificate = tlsCertificate,
            TlsCa = tlsCa,
            Log = log,
            Dashboard = dashboardPort is { } at ? new IPEndPoint(dashboardListen, at) : null,
            Worker = new ProcessPoolExecutorOptions { FileName = program, Arguments = programArgs, MaxWorkers = workers, TraceWorkers = traceWorkers },
        };
    }
}
