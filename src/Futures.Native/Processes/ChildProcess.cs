using System.Net.Sockets;

namespace CsFutures.Processes;

/// <summary>
/// A worker program started by a <see cref="ProcessPoolExecutor"/>: spawn, signal, wait for its exit
/// and reap it (what <c>multiprocessing.Process</c>'s <c>Popen</c> does for CPython's pool).
/// </summary>
/// <remarks>
/// On Linux (5.3 and later) the pool spawns its workers itself (<see cref="PidfdChildProcess"/>:
/// <c>posix_spawnp</c>, then a pidfd) and never uses <see cref="System.Diagnostics.Process"/>. That
/// class learns of a child's exit from .NET's SIGCHLD handler, which is gone once the program sets its
/// own SIGCHLD disposition (a Python handler, <c>SIG_DFL</c>, <c>SIG_IGN</c>; asyncio's child watchers
/// and daemons that reap their children do): the exit was never seen and <c>shutdown()</c> hung. A
/// pidfd becomes readable when the process ends whatever SIGCHLD does, signals sent through it never
/// reach a reused pid, and .NET's own reaper only waits for the children it started, so it does not
/// race the pool for these. Elsewhere (or when pidfds are missing) <see cref="PortableChildProcess"/>
/// keeps <see cref="System.Diagnostics.Process"/>.
/// </remarks>
internal abstract class ChildProcess : IDisposable
{
    /// <summary>The process id.</summary>
    public abstract int Pid { get; }

    /// <summary>Starts <paramref name="fileName"/> (looked up on PATH) with <paramref name="arguments"/>
    /// and exactly <paramref name="environment"/>; stdin, stdout and stderr are this process's.</summary>
    public static ChildProcess Start(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment) =>
        PidfdChildProcess.IsSupported
            ? PidfdChildProcess.Spawn(fileName, arguments, environment)
            : PortableChildProcess.Spawn(fileName, arguments, environment);

    /// <summary>True once the process has ended (reaped or not).</summary>
    public abstract bool HasExited { get; }

    /// <summary>Waits until the process has ended; false on timeout.</summary>
    public abstract bool WaitForExit(TimeSpan timeout);

    /// <summary>Waits until <paramref name="listener"/> has a connection to accept (true), or the process
    /// ended or <paramref name="timeout"/> passed (false).</summary>
    public abstract bool WaitForConnection(Socket listener, TimeSpan timeout);

    /// <summary>Waits for the end of the process and collects its exit status: the exit code, 128 + n
    /// for a process killed by signal n, or <c>null</c> when the status was lost (SIGCHLD ignored, or
    /// someone else's <c>waitpid(-1)</c> reaped it first).</summary>
    public abstract int? Reap();

    /// <summary>Sends <paramref name="signal"/> (on Windows: kills); nothing once the process has been
    /// reaped.</summary>
    public abstract void Signal(int signal);

    /// <summary>Releases the handle (the pidfd); the process is not signalled.</summary>
    public abstract void Dispose();
}
