using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Chaos;

/// <summary>The faults of <see cref="ChaosSettings"/> on the calls a node makes: empty directory
/// listings, lost result batches.</summary>
internal sealed class ChaosOutgoingFilter(ChaosSettings chaos) : IOutgoingGrainCallFilter
{
    private int _listedExecutors;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(ITaskSource) && context.MethodName == nameof(ITaskSource.Completed)
            && chaos.Hit(ChaosSettings.DropCompleted))
        {
            // Never sent: the caller sees what it would see when the answer never comes.
            throw new TimeoutException("chaos: the Completed batch was dropped");
        }
        await context.Invoke().ConfigureAwait(false);
        if (context.InterfaceMethod?.DeclaringType == typeof(IExecutorDirectoryGrain) && context.MethodName == nameof(IExecutorDirectoryGrain.List)
            && context.Result is ExecutorEntry[] { Length: > 0 } && Interlocked.Exchange(ref _listedExecutors, 1) == 1
            && chaos.Hit(ChaosSettings.EmptyListings))
        {
            context.Result = Array.Empty<ExecutorEntry>();
        }
    }
}
