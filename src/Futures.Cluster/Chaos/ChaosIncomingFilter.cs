using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Chaos;

/// <summary>The faults of <see cref="ChaosSettings"/> on the calls a node's grains answer: a delayed
/// executor registration.</summary>
internal sealed class ChaosIncomingFilter(ChaosSettings chaos) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IExecutorDirectoryGrain) && context.MethodName == nameof(IExecutorDirectoryGrain.Register)
            && chaos.Hit(ChaosSettings.DelayRegister))
        {
            await Task.Delay(ChaosSettings.RegisterDelay).ConfigureAwait(false);
        }
        await context.Invoke().ConfigureAwait(false);
    }
}
