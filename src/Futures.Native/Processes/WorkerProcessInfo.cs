namespace CsFutures.Processes;

/// <summary>
/// One worker process of a <see cref="ProcessPoolExecutor"/>: what Python's
/// <c>executor._processes[pid]</c> (a <c>multiprocessing.Process</c>) offers.
/// </summary>
public sealed class WorkerProcessInfo
{
    private readonly WorkerProcess _worker;

    internal WorkerProcessInfo(WorkerProcess worker) => _worker = worker;

    /// <summary>The process id: Python's <c>pid</c>.</summary>
    public int Pid => _worker.Pid;

    /// <summary>True until the process has exited and the pool has seen it: Python's <c>is_alive()</c>.</summary>
    public bool IsAlive => !_worker.Exited.IsCompleted;

    /// <summary>The exit code once exited (on Unix, 128 + n for signal n), else <c>null</c>:
    /// Python's <c>exitcode</c>. When the status was lost (SIGCHLD ignored, or a foreign
    /// <c>waitpid(-1)</c> reaped the worker), 0, as Python's <c>subprocess</c> reports it; see
    /// <see cref="ExitStatusLost"/>.</summary>
    public int? ExitCode => _worker.Exited.IsCompleted ? _worker.Exited.Result ?? 0 : null;

    /// <summary>True when the worker has exited and its exit status could not be collected (beyond
    /// Python, which reads such a status as 0 in <c>subprocess</c>).</summary>
    public bool ExitStatusLost => _worker.Exited.IsCompleted && _worker.Exited.Result is null;

    /// <summary>Sends SIGTERM: Python's <c>terminate()</c>.</summary>
    public void Terminate() => _worker.Terminate();

    /// <summary>Sends SIGKILL: Python's <c>kill()</c>.</summary>
    public void Kill() => _worker.Kill();

    /// <summary>Waits for the process to exit: Python's <c>join(timeout)</c>; false on timeout.</summary>
    public bool Join(TimeSpan? timeout = null) =>
        timeout is { } t ? _worker.Exited.Wait(t) : _worker.Exited.Wait(Timeout.Infinite);
}
