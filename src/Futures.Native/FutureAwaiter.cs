using System.Runtime.CompilerServices;

namespace CsFutures;

/// <summary>Awaits a <see cref="Future"/>; <c>await future</c> rethrows what
/// <see cref="Future.ResultObject"/> would. Continuations run on the .NET thread pool, never on the
/// executor's worker thread.</summary>
public readonly struct FutureAwaiter : ICriticalNotifyCompletion
{
    private readonly Future _future;

    internal FutureAwaiter(Future future) => _future = future;

    /// <summary>True when the future is done.</summary>
    public bool IsCompleted => _future.Done();

    /// <summary>Rethrows the future's exception, or <see cref="CancelledException"/>.</summary>
    public void GetResult() => _future.ResultObject();

    /// <inheritdoc/>
    public void OnCompleted(Action continuation) => FutureAwaiterScheduling.Schedule(_future, continuation, flowContext: true);

    /// <inheritdoc/>
    public void UnsafeOnCompleted(Action continuation) => FutureAwaiterScheduling.Schedule(_future, continuation, flowContext: false);
}

/// <summary>Awaits a <see cref="Future{T}"/>; <c>await future</c> gives what
/// <see cref="Future{T}.Result"/> gives, without blocking a thread.</summary>
public readonly struct FutureAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly Future<T> _future;

    internal FutureAwaiter(Future<T> future) => _future = future;

    /// <summary>True when the future is done.</summary>
    public bool IsCompleted => _future.Done();

    /// <summary>The result, or the future's exception rethrown, or <see cref="CancelledException"/>.</summary>
    public T GetResult() => _future.Result();

    /// <inheritdoc/>
    public void OnCompleted(Action continuation) => FutureAwaiterScheduling.Schedule(_future, continuation, flowContext: true);

    /// <inheritdoc/>
    public void UnsafeOnCompleted(Action continuation) => FutureAwaiterScheduling.Schedule(_future, continuation, flowContext: false);
}

internal static class FutureAwaiterScheduling
{
    public static void Schedule(Future future, Action continuation, bool flowContext)
    {
        var context = SynchronizationContext.Current;
        future.AddDoneCallback(_ =>
        {
            if (context is not null && context.GetType() != typeof(SynchronizationContext))
            {
                context.Post(static c => ((Action)c!)(), continuation);
            }
            else if (flowContext)
            {
                ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
            }
        });
    }
}
