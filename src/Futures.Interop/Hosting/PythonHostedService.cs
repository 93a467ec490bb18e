using CsFutures.Interop.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CsFutures.Interop.Hosting;

/// <summary>
/// Starts the interpreter with the host (so that a missing Python fails the start, not the first
/// task) and, at host stop, shuts the named executors down. Running work may take until the host's
/// shutdown timeout (the token given to <see cref="StopAsync"/>); pending work is drained or
/// cancelled per <see cref="ExecutorOptions.CancelPendingOnStop"/>. The interpreter is released when
/// the host is disposed, after the executors (the container disposes in reverse order of creation,
/// and the runtime is created first, at start). If work is still running when the timeout expires,
/// its pending work is cancelled and the interpreter is left running (finalizing it under running
/// Python code would end those threads).
/// </summary>
internal sealed class PythonHostedService : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly ExecutorProvider _executors;
    private readonly ILogger _logger;

    public PythonHostedService(IServiceProvider services, ExecutorProvider executors)
    {
        _services = services;
        _executors = executors;
        var loggers = services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger("CsFutures.Interop.Hosting");
        if (loggers is not Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory)
        {
            FuturesLogging.UseLoggerFactory(loggers);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsPythonRegistered())
        {
            _services.GetRequiredService<PythonRuntime>();
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var created = _executors.Created().ToList();
        foreach (var (name, executor, options) in created)
        {
            _logger.LogInformation("Shutting down executor {Name} ({Queued} queued, {Action})", name, executor.QueuedCount,
                options.CancelPendingOnStop ? "cancelling pending work" : "draining pending work");
            executor.Shutdown(wait: false, cancelFutures: options.CancelPendingOnStop);
        }
        bool allStopped = true;
        foreach (var (name, executor, _) in created)
        {
            try
            {
                await executor.ShutdownAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                _logger.LogInformation("Executor {Name} stopped", name);
            }
            catch (OperationCanceledException)
            {
                allStopped = false;
                executor.Shutdown(wait: false, cancelFutures: true);
                _logger.LogWarning("Executor {Name} did not finish within the host's shutdown timeout: pending work cancelled, running work abandoned", name);
            }
        }
        if (!allStopped && IsPythonRegistered())
        {
            // The container disposes the runtime after the executors; with work still running, it must not finalize.
            PythonRuntime.Current?.KeepAlive();
        }
    }

    private bool IsPythonRegistered() => _services.GetService<PythonRuntimeMarker>() is not null;
}

/// <summary>Present when <c>AddPythonRuntime</c> was called.</summary>
internal sealed class PythonRuntimeMarker;
