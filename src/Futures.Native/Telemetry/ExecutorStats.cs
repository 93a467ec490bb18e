using CsFutures.Processes;
namespace CsFutures.Telemetry;

/// <summary>
/// What an executor has done so far: <see cref="ThreadPoolExecutor.Stats"/> and
/// <see cref="ProcessPoolExecutor.Stats"/>, and Python's <c>executor.stats()</c> (a dict with these
/// fields in <c>snake_case</c>). CPython's <c>concurrent.futures</c> has no such call. The same figures
/// are published as metrics (see <see cref="FuturesTelemetry"/>).
/// </summary>
/// <remarks>A task is counted just after its future completes, on the thread that completed it: a read
/// right after a result was received may not include that task yet. After a shutdown with wait the
/// counts are exact.</remarks>
/// <param name="Name">The executor's name (the tag of its metrics).</param>
/// <param name="Submitted">Tasks accepted by submit.</param>
/// <param name="Completed">Tasks that returned a result.</param>
/// <param name="Failed">Tasks that failed (raised, or lost their worker, or timed out).</param>
/// <param name="Cancelled">Tasks cancelled before they ran.</param>
/// <param name="Queued">Tasks waiting for a worker now.</param>
/// <param name="Workers">Live workers now (threads, or processes).</param>
/// <param name="WorkerStarts">Worker processes started (0 for a thread pool).</param>
/// <param name="WorkerDeaths">Worker processes that ended unexpectedly (0 for a thread pool).</param>
/// <param name="WorkerRestarts">Replacement worker processes started (0 for a thread pool).</param>
public readonly record struct ExecutorStats(
    string Name,
    long Submitted,
    long Completed,
    long Failed,
    long Cancelled,
    long Queued,
    long Workers,
    long WorkerStarts,
    long WorkerDeaths,
    long WorkerRestarts);
