using System.Net.Sockets;
using System.Runtime.InteropServices;
using static CsFutures.Processes.LinuxProcessApi;

namespace CsFutures.Processes;

/// <summary>
/// A worker spawned with <c>posix_spawnp</c> and followed through a pidfd (Linux 5.3+): its exit is
/// seen by <c>poll</c>, it is reaped by <c>waitid(P_PIDFD)</c> and signalled by
/// <c>pidfd_send_signal</c>, none of which depends on SIGCHLD (see <see cref="ChildProcess"/>).
/// </summary>
/// <remarks>The pidfd is opened right after the spawn. Until the pool reaps the child it stays a
/// zombie, so the pid cannot be reused in between, unless SIGCHLD is ignored or a foreign
/// <c>waitpid(-1)</c> reaps it first: then <c>pidfd_open</c> fails and the child counts as exited
/// with its status lost. The child gets an empty signal mask and the default disposition of SIGCHLD,
/// SIGPIPE and SIGXFSZ (as CPython's <c>subprocess</c> restores).</remarks>
internal sealed unsafe class PidfdChildProcess : ChildProcess
{
    private static readonly Lazy<bool> s_supported = new(Probe);
    private readonly Lock _fdLock = new();
    private readonly int _pid;
    private int _pidfd;
    private bool _reaped;
    private int? _exitCode;

    private PidfdChildProcess(int pid, int pidfd)
    {
        _pid = pid;
        _pidfd = pidfd;
        _reaped = pidfd < 0;
    }

    /// <summary>True on Linux with <c>pidfd_open</c> in the kernel and in libc.</summary>
    public static bool IsSupported => s_supported.Value;

    public override int Pid => _pid;

    public static PidfdChildProcess Spawn(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var strings = new List<IntPtr>();
        try
        {
            IntPtr Utf8(string s)
            {
                IntPtr p = Marshal.StringToCoTaskMemUTF8(s);
                strings.Add(p);
                return p;
            }
            var argv = new IntPtr[arguments.Count + 2];
            argv[0] = Utf8(fileName);
            for (int i = 0; i < arguments.Count; i++)
            {
                argv[i + 1] = Utf8(arguments[i]);
            }
            var envp = new IntPtr[environment.Count + 1];
            int e = 0;
            foreach (var (key, value) in environment)
            {
                envp[e++] = Utf8(key + "=" + value);
            }
            byte* attr = stackalloc byte[SpawnAttrSize];
            byte* mask = stackalloc byte[SigSetSize];
            byte* defaults = stackalloc byte[SigSetSize];
            _ = PosixSpawnattrInit(attr);
            int pid;
            int error;
            try
            {
                _ = SigEmptySet(mask);
                _ = SigEmptySet(defaults);
                _ = SigAddSet(defaults, SIGCHLD);
                _ = SigAddSet(defaults, SIGPIPE);
                _ = SigAddSet(defaults, SIGXFSZ);
                _ = PosixSpawnattrSetsigmask(attr, mask);
                _ = PosixSpawnattrSetsigdefault(attr, defaults);
                _ = PosixSpawnattrSetflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
                fixed (IntPtr* a = argv)
                fixed (IntPtr* env = envp)
                {
                    error = PosixSpawnp(out pid, (byte*)argv[0], null, attr, (byte**)a, (byte**)env);
                }
            }
            finally
            {
                _ = PosixSpawnattrDestroy(attr);
            }
            if (error != 0)
            {
                throw new System.ComponentModel.Win32Exception(error,
                    $"the worker program '{fileName}' could not be started: {Marshal.GetPInvokeErrorMessage(error)}");
            }
            // -1 when the child was reaped already (SIGCHLD ignored): it counts as exited, status lost.
            int pidfd = PidfdOpen(pid, 0);
            return new PidfdChildProcess(pid, pidfd);
        }
        finally
        {
            foreach (IntPtr p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    public override bool HasExited => _reaped || PollOne(0);

    public override bool WaitForExit(TimeSpan timeout) => _reaped || PollOne(ToMilliseconds(timeout));

    public override bool WaitForConnection(Socket listener, TimeSpan timeout)
    {
        var deadline = Deadline.After(timeout);
        while (true)
        {
            int pidfd = Volatile.Read(ref _pidfd);
            if (pidfd < 0)
            {
                return false; // gone before the pidfd could be opened
            }
            PollFd* fds = stackalloc PollFd[2];
            fds[0] = new PollFd { Fd = (int)listener.Handle, Events = POLLIN };
            fds[1] = new PollFd { Fd = pidfd, Events = POLLIN };
            int n = Poll(fds, 2, ToMilliseconds(deadline.Remaining));
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }
            if (n <= 0)
            {
                return false; // timed out (or poll failed: the caller gives up on this worker)
            }
            return fds[0].Revents != 0 && fds[1].Revents == 0;
        }
    }

    public override int? Reap()
    {
        lock (_fdLock)
        {
            if (_reaped)
            {
                return _exitCode;
            }
        }
        byte* info = stackalloc byte[SigInfoSize];
        int? code;
        while (true)
        {
            new Span<byte>(info, SigInfoSize).Clear();
            if (WaitId(P_PIDFD, _pidfd, info, WEXITED) == 0)
            {
                int reason = *(int*)(info + 8);   // si_code
                int status = *(int*)(info + 24);  // si_status
                code = reason == CLD_EXITED ? status : reason is CLD_KILLED or CLD_DUMPED ? 128 + status : null;
                break;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                code = null; // ECHILD: reaped by someone else (SIGCHLD ignored, a foreign waitpid(-1))
                break;
            }
        }
        lock (_fdLock)
        {
            _exitCode = code;
            _reaped = true;
        }
        return code;
    }

    public override void Signal(int signal)
    {
        lock (_fdLock)
        {
            // Through the pidfd, never by pid: once the child is reaped its pid may belong to another.
            if (!_reaped && _pidfd >= 0)
            {
                _ = PidfdSendSignal(_pidfd, signal, null, 0);
            }
        }
    }

    public override void Dispose()
    {
        lock (_fdLock)
        {
            if (_pidfd >= 0)
            {
                _ = Close(_pidfd);
                _pidfd = -1;
            }
            _reaped = true;
        }
    }

    /// <summary>True when the pidfd is readable (the process ended) within <paramref name="timeoutMs"/>.</summary>
    private bool PollOne(int timeoutMs)
    {
        var deadline = Deadline.After(TimeSpan.FromMilliseconds(timeoutMs < 0 ? int.MaxValue : timeoutMs));
        while (true)
        {
            int pidfd = Volatile.Read(ref _pidfd);
            if (pidfd < 0)
            {
                return true;
            }
            var fd = new PollFd { Fd = pidfd, Events = POLLIN };
            int n = Poll(&fd, 1, timeoutMs < 0 ? -1 : ToMilliseconds(deadline.Remaining));
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }
            return n > 0;
        }
    }

    private static int ToMilliseconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            int fd = PidfdOpen(GetPid(), 0);
            if (fd < 0)
            {
                return false; // ENOSYS: a kernel before 5.3
            }
            _ = Close(fd);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // a libc before glibc 2.36
        }
    }
}
