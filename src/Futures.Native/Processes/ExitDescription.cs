namespace CsFutures.Processes;

/// <summary>How a worker's end reads in a <see cref="BrokenProcessPoolException"/>'s detail and the logs.</summary>
internal static class ExitDescription
{
    /// <summary>"Process 12 terminated abruptly with exit code -9 (killed by signal 9, SIGKILL)", and
    /// the like: CPython 3.15's wording (gh-139462), with multiprocessing's exit code (-N for a process
    /// killed by signal N); <paramref name="exitCode"/> null when the status was lost.</summary>
    public static string Describe(int pid, int? exitCode)
    {
        if (exitCode is null)
        {
            return $"Process {pid} terminated abruptly; its exit code is unknown (its status was collected by someone else: SIGCHLD ignored, or a foreign waitpid)";
        }
        int code = exitCode.Value;
        if (!OperatingSystem.IsWindows() && code > 128 && code < 128 + 65)
        {
            int signal = code - 128;
            return $"Process {pid} terminated abruptly with exit code -{signal} (killed by signal {signal}, {SignalName(signal)}; OS exit status {code})";
        }
        return $"Process {pid} terminated abruptly with exit code {code}";
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal " + signal,
    };
}
