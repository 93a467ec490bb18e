using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CsFutures.Interop.Hosting;

/// <summary>Creates the named executors on first use and shuts them down at host stop.</summary>
internal sealed class ExecutorProvider : IExecutorProvider, IDisposable
{
    private readonly IOptionsMonitor<ExecutorOptions> _options;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<string, Lazy<ThreadPoolExecutor>> _executors = new();

    public ExecutorProvider(ExecutorNames names, IOptionsMonitor<ExecutorOptions> options, IServiceProvider services)
    {
        _options = options;
        _loggers = services.GetService(typeof(ILoggerFactory)) as ILoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        foreach (string name in names.Names)
        {
            _executors[name] = new Lazy<ThreadPoolExecutor>(() => Create(name));
        }
    }

    public IReadOnlyCollection<string> Names => _executors.Keys.ToList();

    public ThreadPoolExecutor Get(string name) =>
        _executors.TryGetValue(name, out var lazy) ? lazy.Value : throw new KeyNotFoundException($"no executor named '{name}' was registered (AddExecutor)");

    /// <summary>The executors created so far, with their options.</summary>
    public IEnumerable<(string Name, ThreadPoolExecutor Executor, ExecutorOptions Options)> Created() =>
        _executors.Where(kv => kv.Value.IsValueCreated).Select(kv => (kv.Key, kv.Value.Value, _options.Get(kv.Key)));

    private ThreadPoolExecutor Create(string name)
    {
        var options = _options.Get(name);
        var logger = _loggers.CreateLogger($"{FuturesLogging.Category}.{name}");
        var threadOptions = options.Python ? Runtime.PythonRuntime.ExecutorOptions(logger) : new ThreadPoolExecutorOptions { Logger = logger };
        var executor = new ThreadPoolExecutor(options.MaxWorkers, options.ThreadNamePrefix ?? name, options: threadOptions);
        logger.LogDebug("Executor {Name} created: max workers {MaxWorkers}, thread prefix {Prefix}", name, executor.MaxWorkers, executor.ThreadNamePrefix);
        return executor;
    }

    /// <summary>Container disposal: stops accepting work without waiting (the hosted service waited).</summary>
    public void Dispose()
    {
        foreach (var (_, executor, _) in Created())
        {
            executor.Shutdown(wait: false);
        }
    }
}

/// <summary>The names given to <c>AddExecutor</c> (one instance per service collection).</summary>
internal sealed class ExecutorNames
{
    public List<string> Names { get; } = new();
}
