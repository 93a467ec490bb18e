namespace CsFutures;

/// <summary>How a worker's end reads in a <see cref="BrokenProcessPoolException"/>'s detail and the logs.</summary>
internal static class ExitDescription
{
    /// <summary>"worker process 12 was killed by signal 9 (SIGKILL); exit code 137", and the like;
    /// <paramref name="exitCode"/> null when the status was lost.</summary>
    public static string Describe(int pid, int? exitCode)
    {
        if (exitCode is null)
        {
            return $"worker process {pid} ended; its exit code is unknown (its status was collected by someone else: SIGCHLD ignored, or a foreign waitpid)";
        }
        int code = exitCode.Value;
        if (!OperatingSystem.IsWindows() && code > 128 && code < 128 + 65)
        {
            int signal = code - 128;
            return $"worker process {pid} was killed by signal {signal} ({SignalName(signal)}); exit code {code}";
        }
        return $"worker process {pid} exited with code {code}";
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
