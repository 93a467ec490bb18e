using System.Net.Sockets;

namespace CsFutures.Processes;

/// <summary>
/// One worker process of a <see cref="ProcessPoolExecutor"/> and the thread that reads its replies.
/// The pool reserves it under its lock (state <see cref="WorkerState.Starting"/>, no process yet) and
/// spawns it after releasing the lock (<see cref="Spawn"/>). The pool owns the state fields and
/// changes them under its lock; this class does the I/O.
/// </summary>
internal sealed class WorkerProcess
{
    private readonly ProcessPoolExecutor _pool;
    private readonly ProcessPoolExecutorOptions _options;
    private readonly string _socketPath;
    private readonly object _sendLock = new();
    private readonly Lock _processLock = new();
    private readonly TaskCompletionSource<int?> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChildProcess? _process;
    private int _pendingSignal;
    private Socket? _listener;
    private NetworkStream? _stream;

    public WorkerProcess(ProcessPoolExecutor pool, ProcessPoolExecutorOptions options, string socketPath)
    {
        _pool = pool;
        _options = options;
        _socketPath = socketPath;
    }

    /// <summary>The process id; 0 until spawned.</summary>
    public int Pid { get; private set; }

    /// <summary>True once the process was started.</summary>
    public bool IsSpawned => Volatile.Read(ref _process) is not null;

    // The fields below belong to the pool's lock.
    public WorkerState State { get; set; } = WorkerState.Starting;

    public ProcessWorkItem? Current { get; set; }

    public int TasksDone { get; set; }

    public bool TimedOut { get; set; }

    public bool InitFailed { get; set; }

    public Timer? TaskTimer { get; set; }

    /// <summary>The start and end (UTC) of the last run as the worker reported them
    /// (<see cref="FrameKind.OkTimed"/>), or defaults; set by the reader thread before it reports the reply.</summary>
    public (DateTime Start, DateTime End) ReportedRun { get; private set; }

    /// <summary>Completes with the exit code (null: the status was lost) once the process has exited
    /// and been reaped, before the pool is told.</summary>
    public Task<int?> Exited => _exited.Task;

    /// <summary>Stops the task's time limit (under the pool's lock).</summary>
    public void CancelTimerLocked()
    {
        Invariants.AssertHeld(_pool.SyncObj);
        TaskTimer?.Dispose();
        TaskTimer = null;
    }

    /// <summary>Binds the worker's socket, starts the process and the thread that accepts its
    /// connection and reads its replies. Never under the pool's lock. A signal asked for before
    /// (the pool broke meanwhile) is sent right after the start.</summary>
    public void Spawn()
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        ChildProcess process;
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
            listener.Listen(1);
            var environment = new Dictionary<string, string>();
            if (_options.Environment is { } given)
            {
                foreach (var (key, value) in given)
                {
                    environment[key] = value;
                }
            }
            else
            {
                foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
                {
                    environment[(string)entry.Key] = (string?)entry.Value ?? "";
                }
            }
            environment[WorkerProtocol.SocketVariable] = _socketPath;
            process = ChildProcess.Start(_options.FileName, _options.Arguments, environment);
        }
        catch
        {
            listener.Dispose();
            File.Delete(_socketPath);
            throw;
        }
        _listener = listener;
        Pid = process.Pid;
        int signal;
        lock (_processLock)
        {
            _process = process;
            signal = _pendingSignal;
        }
        if (signal != 0)
        {
            process.Signal(signal);
        }
        var thread = new Thread(() =>
        {
            _options.ReaderStarted?.Invoke();
            try
            {
                Run(_options.StartTimeout);
            }
            finally
            {
                _options.ReaderStopping?.Invoke();
            }
        })
        {
            IsBackground = true,
            Name = $"cs_futures process worker {process.Pid}",
        };
        thread.Start();
    }

    /// <summary>Sends a frame; false if the worker is gone (its reader thread reports the death).</summary>
    public bool Send(FrameKind kind, long id, ReadOnlySpan<byte> body)
    {
        lock (_sendLock)
        {
            if (_stream is null)
            {
                return false;
            }
            try
            {
                WorkerProtocol.Write(_stream, kind, id, body);
                return true;
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    /// <summary>Sends SIGTERM (Python's <c>Process.terminate()</c>); on Windows, kills.</summary>
    public void Terminate() => Signal(LinuxProcessApi.SIGTERM);

    /// <summary>Kills the process (Python's <c>Process.kill()</c>, SIGKILL).</summary>
    public void Kill() => Signal(LinuxProcessApi.SIGKILL);

    /// <summary>Sends <paramref name="signal"/>; before the spawn, remembers it for then (SIGKILL wins).</summary>
    public void Signal(int signal)
    {
        ChildProcess? process;
        lock (_processLock)
        {
            process = _process;
            if (process is null)
            {
                _pendingSignal = _pendingSignal == LinuxProcessApi.SIGKILL ? _pendingSignal : signal;
                return;
            }
        }
        process.Signal(signal);
    }

    private void Run(TimeSpan startTimeout)
    {
        try
        {
            if (Connect(startTimeout))
            {
                ReadReplies();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidDataException)
        {
            // The connection broke: the process is gone or going; its exit code tells why.
        }
        finally
        {
            lock (_sendLock)
            {
                _stream?.Dispose();
                _stream = null;
            }
            _listener?.Dispose();
            File.Delete(_socketPath);
        }
        int? exitCode = WaitForExit();
        _exited.TrySetResult(exitCode);
        _pool.OnWorkerExited(this, exitCode);
    }

    private bool Connect(TimeSpan startTimeout)
    {
        if (!_process!.WaitForConnection(_listener!, startTimeout))
        {
            Kill(); // timed out (or exited: then this does nothing)
            return false;
        }
        Socket socket = _listener!.Accept();
        _listener.Dispose();
        File.Delete(_socketPath);
        lock (_sendLock)
        {
            _stream = new NetworkStream(socket, ownsSocket: true);
        }
        return Send(FrameKind.Init, 0, _pool.InitializerPayload.Span);
    }

    private void ReadReplies()
    {
        var input = new BufferedStream(_stream!, 64 * 1024);
        var header = new byte[WorkerProtocol.HeaderSize];
        while (WorkerProtocol.TryRead(input, header, out FrameKind kind, out _, out byte[] body))
        {
            switch (kind)
            {
                case FrameKind.Ready:
                    _pool.OnWorkerReady(this);
                    break;
                case FrameKind.InitFailed:
                    _pool.OnWorkerInitFailed(this, System.Text.Encoding.UTF8.GetString(body));
                    break;
                case FrameKind.Ok:
                case FrameKind.Error:
                    ReportedRun = default;
                    _pool.OnWorkerReply(this, kind == FrameKind.Ok, body);
                    break;
                case FrameKind.OkTimed:
                case FrameKind.ErrorTimed:
                    ReportedRun = WorkerProtocol.ReadTimes(body, out byte[] reply);
                    _pool.OnWorkerReply(this, kind == FrameKind.OkTimed, reply);
                    break;
                default:
                    throw new InvalidDataException($"worker {Pid} sent an unknown frame kind {(int)kind}");
            }
        }
    }

    /// <summary>The exit code once the process has ended (null when its status was lost); a process
    /// that closed its end but lives on gets a grace period, then is killed. The process is reaped
    /// and its handle released.</summary>
    private int? WaitForExit()
    {
        var process = _process!;
        if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            process.Signal(LinuxProcessApi.SIGKILL);
        }
        int? code = process.Reap();
        process.Dispose();
        return code;
    }
}
