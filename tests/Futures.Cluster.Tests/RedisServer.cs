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

    private RedisServer(Process process, int port, string? password)
    {
        _process = process;
        Port = port;
        Password = password;
    }

    internal int Port { get; }

    /// <summary>The password redis-server requires (<c>--requirepass</c>), or null.</summary>
    internal string? Password { get; }

    /// <summary><c>redis://[:PASSWORD@]127.0.0.1:PORT</c>, the password percent-encoded.</summary>
    internal string Address => Password is null
        ? $"redis://127.0.0.1:{Port}"
        : $"redis://:{Uri.EscapeDataString(Password)}@127.0.0.1:{Port}";

    /// <summary>The address without the password.</summary>
    internal string AddressWithoutPassword => $"redis://127.0.0.1:{Port}";

    /// <summary>Starts a server; with <paramref name="password"/>, it requires it
    /// (<c>--requirepass</c>).</summary>
    internal static RedisServer Start(string? password = null)
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
        foreach (string arg in (string[])["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     .. password is null ? (string[])[] : ["--requirepass", password]])
        {
            psi.ArgumentList.Add(arg);
        }
        var server = new RedisServer(Process.Start(psi)!, port, password);
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
