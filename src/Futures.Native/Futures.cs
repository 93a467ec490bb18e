using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace CsFutures;

/// <summary>
/// The module-level functions of Python's <c>concurrent.futures</c>: <c>wait</c> and
/// <c>as_completed</c>, plus <see cref="AsCompletedAsync{TFuture}"/> for <c>await foreach</c>.
/// </summary>
public static class Futures
{
    /// <summary>
    /// Waits for the futures to complete: Python's
    /// <c>concurrent.futures.wait(fs, timeout=None, return_when=ALL_COMPLETED)</c>.
    /// </summary>
    /// <param name="fs">The futures; duplicates count once. They may come from different executors.</param>
    /// <param name="timeout">The longest wait; <c>null</c> waits without limit. No exception is
    /// thrown when it passes: the unfinished futures are in <see cref="DoneAndNotDone{TFuture}.NotDone"/>.</param>
    /// <param name="returnWhen">When to return; see <see cref="ReturnWhen"/>.</param>
    /// <param name="cancellationToken">Stops the wait (not the work) with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The done and not-done sets. A future counts as done once it finished, or was cancelled
    /// and its cancellation was notified (CPython's rule).</returns>
    public static DoneAndNotDone<TFuture> Wait<TFuture>(
        IEnumerable<TFuture> fs,
        TimeSpan? timeout = null,
        ReturnWhen returnWhen = ReturnWhen.AllCompleted,
        CancellationToken cancellationToken = default)
        where TFuture : Future
    {
        ArgumentNullException.ThrowIfNull(fs);
        if (!Enum.IsDefined(returnWhen))
        {
            throw new ArgumentOutOfRangeException(nameof(returnWhen), $"Invalid return condition: {returnWhen}");
        }
        var all = new HashSet<TFuture>(fs);
        var done = new HashSet<TFuture>();
        foreach (var f in all)
        {
            if (f.State is FutureState.Finished or FutureState.CancelledAndNotified)
            {
                done.Add(f);
            }
        }
        if (returnWhen == ReturnWhen.FirstCompleted && done.Count > 0)
        {
            return Split(all, done);
        }
        if (returnWhen == ReturnWhen.FirstException && done.Any(f => f.FinishedWithException))
        {
            return Split(all, done);
        }
        if (done.Count == all.Count)
        {
            return Split(all, done);
        }

        Waiter waiter = returnWhen == ReturnWhen.FirstCompleted
            ? new Waiter.AnyCompleted()
            : new Waiter.AllCompleted(all.Count - done.Count, stopOnException: returnWhen == ReturnWhen.FirstException);
        var installed = new List<TFuture>(all.Count - done.Count);
        try
        {
            foreach (var f in all)
            {
                if (done.Contains(f))
                {
                    continue;
                }
                if (f.TryInstallWaiter(waiter))
                {
                    installed.Add(f);
                }
                else
                {
                    // Finished between the first look and now: it counts as done and never reports.
                    done.Add(f);
                    waiter.AddDone(f);
                }
            }
            var remaining = Deadline.After(timeout).Remaining;
            waiter.Event.Wait(remaining, cancellationToken);
        }
        finally
        {
            foreach (var f in installed)
            {
                f.RemoveWaiter(waiter);
            }
        }
        foreach (var f in waiter.TakeFinished())
        {
            done.Add((TFuture)f);
        }
        return Split(all, done);
    }

    /// <summary>
    /// Yields the futures as they complete (finished or cancelled and notified): Python's
    /// <c>concurrent.futures.as_completed(fs, timeout=None)</c>. Futures already done come first;
    /// each future is yielded once, duplicates in <paramref name="fs"/> included. No reference is kept
    /// to futures already yielded.
    /// </summary>
    /// <param name="fs">The futures.</param>
    /// <param name="timeout">Counted from the first <c>MoveNext</c>; when it passes with futures
    /// unfinished, <see cref="TimeoutException"/> is thrown with CPython's message
    /// <c>"N (of M) futures unfinished"</c>.</param>
    /// <param name="cancellationToken">Stops the iteration with <see cref="OperationCanceledException"/>.</param>
    public static IEnumerable<TFuture> AsCompleted<TFuture>(
        IEnumerable<TFuture> fs,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TFuture : Future
    {
        ArgumentNullException.ThrowIfNull(fs);
        // Copied now: the iteration then holds only this copy, whose entries are cleared as their
        // futures are yielded, not the caller's sequence (an iterator keeps its arguments for its
        // whole life). A copy of the references, without looking at the futures: the first step
        // looks at each once (see CompletionCursor).
        return AsCompletedIterator(fs.ToArray(), timeout, cancellationToken);
    }

    private static IEnumerable<TFuture> AsCompletedIterator<TFuture>(
        TFuture[] fs, TimeSpan? timeout, CancellationToken cancellationToken)
        where TFuture : Future
    {
        var deadline = Deadline.After(timeout);
        var waiter = new Waiter.AnyCompleted();
        // No local of this iterator holds a future across a yield (each is yielded straight from the
        // cursor, which forgets it), so that a future the caller dropped can be collected: CPython's
        // _yield_finished_futures. Iterator locals live as long as the iteration, in Debug builds all.
        using var cursor = new CompletionCursor<TFuture>(fs, waiter);
        while (true)
        {
            while (cursor.HasReady)
            {
                yield return cursor.Take();
            }
            if (cursor.PendingCount == 0)
            {
                yield break;
            }
            var remaining = deadline.Remaining;
            if (!deadline.IsNever && remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{cursor.PendingCount} (of {cursor.Total}) futures unfinished");
            }
            waiter.Event.Wait(remaining, cancellationToken);
            cursor.CollectFrom(waiter);
        }
    }

    /// <summary>
    /// <see cref="AsCompleted{TFuture}"/> for <c>await foreach</c>: yields the futures as they
    /// complete without blocking a thread, with the same order, timeout and message.
    /// </summary>
    public static IAsyncEnumerable<TFuture> AsCompletedAsync<TFuture>(
        IEnumerable<TFuture> fs,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TFuture : Future
    {
        ArgumentNullException.ThrowIfNull(fs);
        // Copied now, as in AsCompleted: the iteration must not keep the caller's sequence alive.
        return AsCompletedAsyncIterator(fs.ToArray(), timeout, cancellationToken);
    }

    private static async IAsyncEnumerable<TFuture> AsCompletedAsyncIterator<TFuture>(
        TFuture[] fs,
        TimeSpan? timeout,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TFuture : Future
    {
        var deadline = Deadline.After(timeout);
        var channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
        using var cursor = new CompletionCursor<TFuture>(fs, new ChannelWaiter(channel.Writer));
        while (true)
        {
            while (cursor.HasReady)
            {
                yield return cursor.Take();
            }
            if (cursor.PendingCount == 0)
            {
                yield break;
            }
            if (deadline.IsNever)
            {
                await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var remaining = deadline.Remaining;
                if (remaining <= TimeSpan.Zero && !channel.Reader.TryPeek(out _))
                {
                    throw new TimeoutException($"{cursor.PendingCount} (of {cursor.Total}) futures unfinished");
                }
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(remaining);
                try
                {
                    await channel.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    if (!channel.Reader.TryPeek(out _))
                    {
                        throw new TimeoutException($"{cursor.PendingCount} (of {cursor.Total}) futures unfinished");
                    }
                }
            }
            cursor.CollectFrom(channel.Reader);
        }
    }

    private static DoneAndNotDone<TFuture> Split<TFuture>(HashSet<TFuture> all, HashSet<TFuture> done)
        where TFuture : Future
    {
        var notDone = new HashSet<TFuture>(all);
        notDone.ExceptWith(done);
        return new DoneAndNotDone<TFuture>(done, notDone);
    }

    /// <summary>Feeds the tokens of finished futures to an async reader.</summary>
    private sealed class ChannelWaiter : Waiter
    {
        private readonly ChannelWriter<int> _writer;

        public ChannelWaiter(ChannelWriter<int> writer) => _writer = writer;

        public override void AddResult(Future future, int token) => _writer.TryWrite(token);

        public override void AddException(Future future, int token) => _writer.TryWrite(token);

        public override void AddCancelled(Future future, int token) => _writer.TryWrite(token);
    }
}
