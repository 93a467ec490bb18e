using Microsoft.Extensions.Hosting;

namespace CsFutures.Cluster;

/// <summary>
/// The lifetime of the hosts inside a node or an executor: none of their own. The default
/// (<c>ConsoleLifetime</c>) takes SIGINT and SIGTERM from the process that embeds them, a Python
/// interpreter's Ctrl-C included; the program that owns the process decides when to stop.
/// </summary>
internal sealed class QuietLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
