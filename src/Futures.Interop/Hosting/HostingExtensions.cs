using CsFutures.Interop.Interpreters;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CsFutures.Interop.Hosting;

/// <summary>
/// Registers the hosted CPython interpreter and named executors with
/// <c>Microsoft.Extensions.DependencyInjection</c> / <c>Microsoft.Extensions.Hosting</c>.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
/// builder.Services.AddExecutor("python", builder.Configuration.GetSection("Executors:python"));
/// // inject PythonRuntime, IExecutorProvider, or [FromKeyedServices("python")] ThreadPoolExecutor
/// </code>
/// </example>
public static class HostingExtensions
{
    /// <summary>
    /// Registers <see cref="PythonRuntime"/> (started with the host, one per process) with options bound
    /// from <paramref name="configuration"/> (keys of <see cref="PythonRuntimeOptions"/>:
    /// <c>LibraryPath</c>, <c>Home</c>, <c>PythonExecutable</c>, <c>ModulePaths</c>, ...), and the hosted
    /// service that stops executors and then the interpreter with the host.
    /// </summary>
    public static IServiceCollection AddPythonRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PythonRuntimeOptions>().Bind(configuration);
        return AddPythonRuntimeCore(services);
    }

    /// <summary>Registers <see cref="PythonRuntime"/> with options set in code.</summary>
    public static IServiceCollection AddPythonRuntime(this IServiceCollection services, Action<PythonRuntimeOptions>? configure = null)
    {
        var builder = services.AddOptions<PythonRuntimeOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        return AddPythonRuntimeCore(services);
    }

    /// <summary>
    /// Registers a named <see cref="ThreadPoolExecutor"/> (Python's <c>ThreadPoolExecutor</c>) with
    /// options bound from <paramref name="configuration"/> (keys of <see cref="ExecutorOptions"/>:
    /// <c>MaxWorkers</c>, <c>ThreadNamePrefix</c>, <c>CancelPendingOnStop</c>, <c>Python</c>).
    /// Resolve it through <see cref="IExecutorProvider"/> or as a keyed <see cref="Executor"/> /
    /// <see cref="ThreadPoolExecutor"/>.
    /// </summary>
    public static IServiceCollection AddExecutor(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddExecutorCore(services, name).Bind(configuration);
        return services;
    }

    /// <summary>Registers a named executor with options set in code.</summary>
    public static IServiceCollection AddExecutor(this IServiceCollection services, string name, Action<ExecutorOptions>? configure = null)
    {
        var builder = AddExecutorCore(services, name);
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        return services;
    }

    /// <summary>
    /// Registers a named <see cref="PythonProcessPoolExecutor"/> (Python's <c>ProcessPoolExecutor</c>
    /// for Python callables) with options bound from <paramref name="configuration"/> (keys of
    /// <see cref="PythonProcessPoolOptions"/>: <c>MaxWorkers</c>, <c>MaxTasksPerChild</c>,
    /// <c>TaskTimeout</c>, <c>IsolateCrashes</c>, <c>PythonExecutable</c>, <c>Name</c>, which defaults to
    /// <paramref name="name"/> and tags the pool's metrics and spans). Resolve it as a keyed
    /// <see cref="PythonProcessPoolExecutor"/>; the container shuts it down (waiting for running tasks)
    /// when the host is disposed, before the interpreter.
    /// </summary>
    public static IServiceCollection AddPythonProcessPool(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddPythonPool<PythonProcessPoolOptions, PythonProcessPoolExecutor>(services, name, configuration,
            (python, options) => new PythonProcessPoolExecutor(python, options));
    }

    /// <summary>
    /// Registers a named <see cref="PythonInterpreterPoolExecutor"/> (Python 3.14's
    /// <c>InterpreterPoolExecutor</c> for Python callables: one isolated subinterpreter per worker
    /// thread, CPython 3.12 or newer) with options bound from <paramref name="configuration"/> (keys of
    /// <see cref="PythonInterpreterPoolOptions"/>: <c>MaxWorkers</c>, <c>ThreadNamePrefix</c>). Resolve it
    /// as a keyed <see cref="PythonInterpreterPoolExecutor"/>; the container shuts it down (waiting for
    /// running tasks, ending the interpreters) when the host is disposed, before the interpreter.
    /// </summary>
    public static IServiceCollection AddPythonInterpreterPool(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddPythonPool<PythonInterpreterPoolOptions, PythonInterpreterPoolExecutor>(services, name, configuration,
            (python, options) => new PythonInterpreterPoolExecutor(python, options));
    }

    /// <summary>Registers a named pool of Python callables, as each <c>AddPython...</c> does: its options bound
    /// from <paramref name="configuration"/>, its <see cref="PythonPoolOptions.Name"/> defaulting to
    /// <paramref name="name"/> and its <see cref="PythonPoolOptions.Logger"/> to the host's
    /// <c>concurrent.futures</c> logger; the pool resolves as a keyed <typeparamref name="TExecutor"/> and as a
    /// keyed <see cref="PythonPoolExecutor"/>, and the container shuts it down when the host is disposed,
    /// before the interpreter.</summary>
    internal static IServiceCollection AddPythonPool<TOptions, TExecutor>(IServiceCollection services, string name,
        IConfiguration configuration, Func<PythonRuntime, TOptions, TExecutor> create)
        where TOptions : PythonPoolOptions
        where TExecutor : PythonPoolExecutor
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TOptions>(name).Bind(configuration).PostConfigure<IServiceProvider>((options, sp) =>
        {
            options.Name ??= name;
            options.Logger ??= sp.GetService<ILoggerFactory>()?.CreateLogger("concurrent.futures");
        });
        services.AddKeyedSingleton(name, (sp, _) =>
            create(sp.GetRequiredService<PythonRuntime>(), sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name)));
        services.AddKeyedSingleton<PythonPoolExecutor>(name, (sp, key) => sp.GetRequiredKeyedService<TExecutor>(key));
        return services;
    }

    private static IServiceCollection AddPythonRuntimeCore(IServiceCollection services)
    {
        services.TryAddSingleton<PythonRuntimeMarker>();
        services.TryAddSingleton(sp => PythonRuntime.Start(
            sp.GetRequiredService<IOptions<PythonRuntimeOptions>>().Value,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("CsFutures.Interop.Python")));
        AddCommon(services);
        return services;
    }

    private static OptionsBuilder<ExecutorOptions> AddExecutorCore(IServiceCollection services, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        AddCommon(services);
        var names = (ExecutorNames)services.First(d => d.ServiceType == typeof(ExecutorNames)).ImplementationInstance!;
        if (names.Names.Contains(name))
        {
            throw new ArgumentException($"an executor named '{name}' is already registered", nameof(name));
        }
        names.Names.Add(name);
        services.AddKeyedSingleton<ThreadPoolExecutor>(name, (sp, _) => sp.GetRequiredService<IExecutorProvider>().Get(name));
        services.AddKeyedSingleton<Executor>(name, (sp, _) => sp.GetRequiredKeyedService<ThreadPoolExecutor>(name));
        return services.AddOptions<ExecutorOptions>(name);
    }

    private static void AddCommon(IServiceCollection services)
    {
        services.AddOptions();
        if (!services.Any(d => d.ServiceType == typeof(ExecutorNames)))
        {
            services.AddSingleton(new ExecutorNames());
        }
        services.TryAddSingleton<ExecutorProvider>();
        services.TryAddSingleton<IExecutorProvider>(sp => sp.GetRequiredService<ExecutorProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PythonHostedService>());
    }
}
