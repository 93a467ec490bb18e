namespace CsFutures.Interop.Hosting;

/// <summary>The executors registered with <c>AddExecutor</c>, by name. Each is also a keyed service
/// (<c>[FromKeyedServices("name")] Executor executor</c>, or <see cref="ThreadPoolExecutor"/>).</summary>
public interface IExecutorProvider
{
    /// <summary>The registered names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The executor registered as <paramref name="name"/>, created on first use.</summary>
    /// <exception cref="KeyNotFoundException">No executor has that name.</exception>
    ThreadPoolExecutor Get(string name);
}
