using System.Net.Sockets;

namespace CsFutures;

/// <summary>
/// One worker process of a <see cref="ProcessPoolExecutor"/> and the thread that reads its replies.
/// The pool owns the state fields and changes them under its lock; this class does the I/O.
/// </summary>
internal sealed class WorkerProcess
{
    private readonly ProcessPoolExecutor _pool;
    private readonly Socket _listener;
    private readonly string _socketPath;
    private readonly object _sendLock = new();
    private readonly TaskCompletionSource<int?> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NetworkStream? _stream;

    private WorkerProcess(ProcessPoolExecutor pool, ChildProcess process, Socket listener, string socketPath)
    {
        _pool = pool;
        Process = process;
        Pid = process.Pid;
        _listener = listener;
        _socketPath = socketPath;
    }

    public ChildProcess Process { get; }

    public int Pid { get; }

    // The fields below belong to the pool's lock.
    public WorkerState State { get; set; } = WorkerState.Starting;

    public ProcessWorkItem? Current { get; set; }

    public int TasksDone { get; set; }

    public bool StopRequested { get; set; }

    public bool TimedOut { get; set; }

    public bool InitFailed { get; set; }

    public Timer? TaskTimer { get; set; }

    /// <summary>Completes with the exit code once the process has exited and the pool was told.</summary>
    public Task<int?> Exited => _exited.Task;

    /// <summary>Starts the process and the thread that accepts its connection and reads its replies.</summary>
    public static WorkerProcess Start(ProcessPoolExecutor pool, ProcessPoolExecutorOptions options, string socketPath)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);
            var environment = new Dictionary<string, string>();
            if (options.Environment is { } given)
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
            environment[WorkerProtocol.SocketVariable] = socketPath;
            var process = ChildProcess.Start(options.FileName, options.Arguments, environment);
            var worker = new WorkerProcess(pool, process, listener, socketPath);
            var thread = new Thread(() =>
            {
                options.ReaderStarted?.Invoke();
                try
                {
                    worker.Run(options.StartTimeout);
                }
                finally
                {
                    options.ReaderStopping?.Invoke();
                }
            })
            {
                IsBackground = true,
                Name = $"cs_futures process worker {process.Pid}",
            };
            thread.Start();
            return worker;
        }
        catch
        {
            listener.Dispose();
            File.Delete(socketPath);
            throw;
        }
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
    public void Terminate() => Process.Signal(LinuxProcessApi.SIGTERM);

    /// <summary>Kills the process (Python's <c>Process.kill()</c>, SIGKILL).</summary>
    public void Kill() => Process.Signal(LinuxProcessApi.SIGKILL);

    public bool HasExited() => Process.HasExited;

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
            _listener.Dispose();
            File.Delete(_socketPath);
        }
        int? exitCode = WaitForExit();
        _exited.TrySetResult(exitCode);
        _pool.OnWorkerExited(this, exitCode);
    }

    private bool Connect(TimeSpan startTimeout)
    {
        if (!Process.WaitForConnection(_listener, startTimeout))
        {
            Kill(); // timed out (or exited: then this does nothing)
            return false;
        }
        Socket socket = _listener.Accept();
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
        while (WorkerProtocol.TryRead(input, header, out FrameKind kind, out long id, out byte[] body))
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
                    _pool.OnWorkerReply(this, id, kind == FrameKind.Ok, body);
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
        if (!Process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            Kill();
        }
        int? code = Process.Reap();
        Process.Dispose();
        return code;
    }
}
/// <summary>Where a worker is in its life.</summary>
internal enum WorkerState
{
    /// <summary>Started, not yet ready.</summary>
    Starting,

    /// <summary>Ready, without a task.</summary>
    Idle,

    /// <summary>Running <see cref="WorkerProcess.Current"/>.</summary>
    Busy,

    /// <summary>Asked to stop (shutdown, or max_tasks_per_child reached).</summary>
    Stopping,

    /// <summary>Gone.</summary>
    Exited,
}
