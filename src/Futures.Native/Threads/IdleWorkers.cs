using System.Collections.Concurrent;

namespace CsFutures.Threads;

/// <summary>
/// How the workers of a <see cref="WorkerPool"/> sleep while the queue is empty and wake when work
/// arrives: CPython's workers block in <c>work_queue.get(block=True)</c>; these spin briefly (work
/// often follows at once), then register as sleepers and block on a semaphore that a submit releases
/// once per registered sleeper.
/// </summary>
/// <remarks>
/// The protocol: a worker increments <c>_sleepers</c>, checks the queue again, then waits. A waker
/// (<see cref="WakeOne"/>) takes one registration and releases the semaphore once; a worker that finds
/// work after registering takes its own registration back, or, when a waker took it first, consumes
/// that waker's release. So every release matches one registration, and no wake-up is lost.
/// At shutdown the wake-ups chain: each worker that exits wakes the next, as CPython's exiting workers
/// put <c>None</c> back in the queue, so that exiting workers do not all contend at once.
/// </remarks>
internal sealed class IdleWorkers
{
    private readonly SemaphoreSlim _wake = new(0);
    private int _sleepers;  // workers registered to be woken through _wake

    /// <summary>Blocks until <paramref name="queue"/> may hold work; false when the worker should exit
    /// (<paramref name="isShutdown"/> and the queue is drained).</summary>
    /// <remarks><paramref name="isShutdown"/> is true only once no submit can enqueue any more (the pool
    /// is shut down and no submit that passed its check is under way), so an empty queue seen after it
    /// stays empty.</remarks>
    public bool WaitForWork(ConcurrentQueue<IWorkItem> queue, Func<bool> isShutdown)
    {
        var spinner = new SpinWait();
        while (true)
        {
            if (!queue.IsEmpty)
            {
                return true;
            }
            if (isShutdown())
            {
                if (!queue.IsEmpty)
                {
                    return true;
                }
                WakeOne(); // the next sleeper exits too: a chain
                return false;
            }
            if (!spinner.NextSpinWillYield)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            Interlocked.Increment(ref _sleepers);
            if (!queue.IsEmpty || isShutdown())
            {
                if (!TryTakeSleeper())
                {
                    _wake.Wait(); // a waker took our registration: take its release
                }
                continue;
            }
            _wake.Wait();
            spinner.Reset();
        }
    }

    /// <summary>Workers registered to be woken.</summary>
    public int Sleepers => Volatile.Read(ref _sleepers);

    /// <summary>Wakes one sleeping worker, if any is registered.</summary>
    public void WakeOne()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleepers) > 0 && TryTakeSleeper())
        {
            _wake.Release();
        }
    }

    private bool TryTakeSleeper()
    {
        int s = Volatile.Read(ref _sleepers);
        while (s > 0)
        {
            int seen = Interlocked.CompareExchange(ref _sleepers, s - 1, s);
            if (seen == s)
            {
                return true;
            }
            s = seen;
        }
        return false;
    }
}
