namespace CsFutures;

/// <summary>
/// One worker of a <see cref="ThreadPoolExecutor"/>: Python's <c>threading.Thread</c> objects in
/// <c>executor._threads</c>. A worker runs on a dedicated background thread from the moment it
/// starts until its executor lets it exit; the operating-system thread under it may then be reused by
/// a later worker (see <see cref="ParkedThreads"/>), so a worker is joined through this object, not
/// through <see cref="Thread.Join()"/>.
/// </summary>
public sealed class WorkerThread
{
    private readonly Action _body;
    private readonly Action? _onExited;
    private readonly ManualResetEventSlim _started = new(false);
    private readonly ManualResetEventSlim _exited = new(false);
    private volatile int _state; // 0 created, 1 started, 2 exited

    internal WorkerThread(string name, Action body, Action? exited = null)
    {
        Name = name;
        _body = body;
        _onExited = exited;
    }

    /// <summary>The worker's name, <c>{prefix}_{n}</c>: Python's <c>Thread.name</c>. The thread
    /// carries it while it runs this worker.</summary>
    public string Name { get; }

    /// <summary>True from the start of the worker until it exits: Python's <c>Thread.is_alive()</c>.</summary>
    public bool IsAlive => _state == 1;

    /// <summary>Always true, as CPython's pool threads are daemon threads: Python's
    /// <c>Thread.daemon</c>. Workers never keep the process alive.</summary>
    public bool IsBackground => true;

    /// <summary>The managed id of the thread running this worker, or <c>null</c> before it starts:
    /// Python's <c>Thread.ident</c>.</summary>
    public int? ManagedThreadId { get; private set; }

    /// <summary>Waits until the worker exited (its executor shut down and its queue drained):
    /// Python's <c>Thread.join()</c>.</summary>
    public void Join() => _exited.Wait();

    /// <summary>Waits at most <paramref name="timeout"/>: Python's <c>Thread.join(timeout)</c>.</summary>
    /// <returns>True when the worker exited.</returns>
    public bool Join(TimeSpan timeout) => _exited.Wait(timeout);

    /// <inheritdoc/>
    public override string ToString() => $"<WorkerThread({Name}, {(_state == 0 ? "initial" : _state == 1 ? "started" : "stopped")} daemon)>";

    /// <summary>True once a thread runs (or ran) the worker.</summary>
    internal bool HasStarted => _state != 0;

    /// <summary>True when a parked thread took the worker (for tests).</summary>
    internal bool OnParkedThread { get; set; }

    /// <summary>Waits until a thread runs the worker, as CPython's <c>Thread.start()</c> waits for
    /// <c>_started</c>.</summary>
    internal void WaitStarted() => _started.Wait();

    /// <summary>Runs the worker on the calling thread (a parked or a new thread); returns when its body
    /// returns. <see cref="MarkExited"/> follows, once the thread can be reused.</summary>
    internal void Run()
    {
        var thread = Thread.CurrentThread;
        thread.Name = Name;
        ManagedThreadId = thread.ManagedThreadId;
        _state = 1;
        _started.Set();
        _body();
    }

    /// <summary>Ends <see cref="IsAlive"/>, releases <see cref="Join()"/>, then tells the pool.</summary>
    internal void MarkExited()
    {
        _state = 2;
        _exited.Set();
        _onExited?.Invoke();
    }
}
