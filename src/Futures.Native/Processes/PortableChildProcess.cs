using System.Diagnostics;
using System.Net.Sockets;

namespace CsFutures.Processes;

/// <summary>
/// A worker started with <see cref="Process"/>: where pidfds are missing (Windows, macOS, Linux
/// before 5.3). On Unix its exit is learnt from .NET's SIGCHLD handler, so a program that replaces
/// the SIGCHLD disposition must not use a process pool there (see <see cref="ChildProcess"/>).
/// </summary>
internal sealed partial class PortableChildProcess : ChildProcess
{
    private readonly Process _process;

    private PortableChildProcess(Process process) => _process = process;

    public override int Pid => _process.Id;

    public static PortableChildProcess Spawn(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (string argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }
        psi.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }
        var process = Process.Start(psi)
            ?? throw new InvalidOperationException($"the worker process '{fileName}' did not start");
        return new PortableChildProcess(process);
    }

    public override bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    public override bool WaitForExit(TimeSpan timeout)
    {
        try
        {
            return _process.WaitForExit(timeout);
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    public override bool WaitForConnection(Socket listener, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!listener.Poll(50_000, SelectMode.SelectRead))
        {
            if (HasExited || deadline.Elapsed > timeout)
            {
                return false;
            }
        }
        return true;
    }

    public override int? Reap()
    {
        try
        {
            _process.WaitForExit();
            return _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public override void Signal(int signal)
    {
        if (OperatingSystem.IsWindows() || signal == LinuxProcessApi.SIGKILL)
        {
            try
            {
                _process.Kill();
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already exited.
            }
        }
        else if (!HasExited)
        {
            _ = SysKill(_process.Id, signal);
        }
    }

    public override void Dispose() => _process.Dispose();

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
