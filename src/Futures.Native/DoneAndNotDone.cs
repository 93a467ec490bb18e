namespace CsFutures;

/// <summary>
/// What <see cref="Futures.Wait{TFuture}"/> returns: Python's <c>DoneAndNotDoneFutures(done, not_done)</c>.
/// Deconstructs as <c>var (done, notDone) = Futures.Wait(fs);</c>.
/// </summary>
/// <param name="Done">The futures that finished or were cancelled (and notified).</param>
/// <param name="NotDone">The others.</param>
public sealed record DoneAndNotDone<TFuture>(IReadOnlySet<TFuture> Done, IReadOnlySet<TFuture> NotDone)
    where TFuture : Future;
