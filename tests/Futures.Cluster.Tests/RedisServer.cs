using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian package <c>redis-server</c>) on a free loopback port, without
/// persistence; killed on dispose. A test that needs it fails (never skips) when it cannot start.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    internal int Port { get; }

    internal string Address => $"redis://127.0.0.1:{Port}";

    internal static RedisServer Start()
    {
        string? program = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
        Assert.That(program, Is.Not.Null, "redis-server is not installed (Debian: apt-get install redis-server)");
        int port = NodeProcess.FreePort();
        var psi = new ProcessStartInfo(program!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            psi.ArgumentList.Add(arg);
        }
        var server = new RedisServer(Process.Start(psi)!, port);
        server._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                server._ready.TrySetResult();
            }
        };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        Assert.That(server._ready.Task.Wait(TimeSpan.FromSeconds(30)), Is.True, "redis-server did not start");
        return server;
    }

    public void Dispose()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
