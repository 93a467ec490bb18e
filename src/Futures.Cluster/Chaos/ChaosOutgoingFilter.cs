using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Chaos;

/// <summary>The faults of <see cref="ChaosSettings"/> on the calls a node makes: empty directory
/// listings, lost result batches, tasks taken and never run, a <c>Take</c> answering that the executor
/// closed.</summary>
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
        if (context.InterfaceMethod?.DeclaringType == typeof(ITaskSource) && context.MethodName == nameof(ITaskSource.Take))
        {
            await TakeFaults(context).ConfigureAwait(false);
        }
    }

    private async Task TakeFaults(IOutgoingGrainCallContext context)
    {
        if (context.Result is TaskAssignment[] { Length: > 0 } tasks && context.Grain is ITaskSource source
            && context.Request.GetArgument(0) is string nodeId && chaos.Hit(ChaosSettings.LoseTaken))
        {
            // Reported started (the executor holds them for this node), then forgotten: the node never
            // runs them, and none of its workers is busy with them.
            await source.Starting(nodeId, tasks.Select(t => t.Id).ToArray()).ConfigureAwait(false);
            context.Result = Array.Empty<TaskAssignment>();
        }
        else if (context.Result is TaskAssignment[] { Length: 0 } && chaos.Hit(ChaosSettings.ClosedTake))
        {
            context.Result = null; // the node takes the executor for closed
        }
    }
}
