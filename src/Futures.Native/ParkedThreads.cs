using Microsoft.Extensions.Logging;

namespace CsFutures;

/// <summary>
/// The threads under <see cref="WorkerThread"/>s. A thread whose worker exited parks here for
/// <see cref="IdleTimeout"/> and then ends; a worker that starts meanwhile takes the most recently
/// parked thread (a wake-up of a few microseconds) instead of creating one (about 110 us on Linux,
/// which is what a pool of 32 pays at every <c>with ThreadPoolExecutor(32)</c> otherwise). CPython has
/// no such cache; .NET's own thread pool keeps its threads the same way.
/// </summary>
/// <remarks>
/// Written by hand rather than on <see cref="ThreadPool"/>: executor workers block for as long as
/// they like and must start at once, which the .NET pool's thread injection does not allow. Nothing
/// of a worker outlives it on the thread except what the worker's own code leaves in
/// <see cref="ThreadStaticAttribute"/> fields, as on .NET's pool threads.
/// </remarks>
internal static class ParkedThreads
{
    /// <summary>How long a parked thread waits for a new worker before it ends.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    /// <summary>For tests: runs on the thread after a worker's body returned, before the worker counts
    /// as exited.</summary>
    internal static Action? BeforeExited;

    private const string IdleName = "cs_futures idle worker";
    private static readonly Lock s_lock = new();
    private static readonly List<Parked> s_parked = new(); // a stack: the last parked is the warmest
    private static int s_spareInFlight; // 1 while PrepareSpare's thread is being created

    /// <summary>Runs <paramref name="worker"/> on a parked thread if there is one.</summary>
    /// <returns>False when none is parked: start it with <see cref="StartNew"/>.</returns>
    public static bool TryRun(WorkerThread worker)
    {
        Parked? parked;
        lock (s_lock)
        {
            if (s_parked.Count == 0)
            {
                return false;
            }
            parked = s_parked[^1];
            s_parked.RemoveAt(s_parked.Count - 1);
            parked.Next = worker;
        }
        worker.OnParkedThread = true;
        parked.Wake.Release();
        return true;
    }

    /// <summary>Runs <paramref name="worker"/> on a new thread (<see cref="Thread.Start()"/> blocks
    /// until that thread runs); with <c>null</c>, the new thread parks at once (a spare).</summary>
    public static void StartNew(WorkerThread? worker)
    {
        var thread = new Thread(static state => Loop((WorkerThread?)state)) { IsBackground = true };
        thread.Start(worker);
    }

    /// <summary>
    /// For a pool that is still growing: creates one thread in the background, on the .NET thread
    /// pool, unless one is parked or already being created, so that the pool's next worker wakes it
    /// instead of waiting for a thread creation. A pool's first 32 workers then start while the spare
    /// threads are created in parallel with its submits.
    /// </summary>
    public static void PrepareSpare()
    {
        if (Volatile.Read(ref s_spareInFlight) != 0 || ParkedCount > 0
            || Interlocked.CompareExchange(ref s_spareInFlight, 1, 0) != 0)
        {
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            try
            {
                StartNew(null);
            }
            catch (Exception ex)
            {
                // No spare: the next worker creates its thread itself (and reports a failure).
                Volatile.Write(ref s_spareInFlight, 0);
                FuturesLogging.Logger.LogWarning(ex, "Could not create a spare worker thread");
            }
        }, null);
    }

    private static int ParkedCount
    {
        get
        {
            lock (s_lock)
            {
                return s_parked.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="worker"/> on a parked thread, else on a new one.</summary>
    public static void Run(WorkerThread worker)
    {
        if (!TryRun(worker))
        {
            StartNew(worker);
        }
    }

    private static void Loop(WorkerThread? worker)
    {
        var parked = new Parked();
        if (worker is null)
        {
            Thread.CurrentThread.Name = IdleName;
            Enlist(parked);
            Volatile.Write(ref s_spareInFlight, 0);
            worker = WaitForWorker(parked);
        }
        while (worker is not null)
        {
            try
            {
                worker.Run();
            }
            catch (Exception ex)
            {
                // A pool's body catches its own failures; this keeps a parked thread from dying.
                FuturesLogging.Logger.LogCritical(ex, "Exception in worker");
            }
            finally
            {
                BeforeExited?.Invoke();
                Thread.CurrentThread.Name = IdleName;
                // Parked before the worker counts as exited: a pool created after a shutdown(wait)
                // finds its threads here.
                Enlist(parked);
                worker.MarkExited();
            }
            worker = WaitForWorker(parked);
        }
    }

    private static void Enlist(Parked parked)
    {
        lock (s_lock)
        {
            parked.Next = null;
            s_parked.Add(parked);
        }
    }

    /// <summary>Waits for the next worker; null when none came within <see cref="IdleTimeout"/>.</summary>
    private static WorkerThread? WaitForWorker(Parked parked)
    {
        while (!parked.Wake.Wait(IdleTimeout))
        {
            lock (s_lock)
            {
                if (parked.Next is null)
                {
                    s_parked.Remove(parked);
                    return null;
                }
            }
            // TryRun gave this thread a worker as the wait timed out: its Release is on the way.
        }
        return parked.Next;
    }

    private sealed class Parked
    {
        public readonly SemaphoreSlim Wake = new(0);
        public WorkerThread? Next;
    }
}
