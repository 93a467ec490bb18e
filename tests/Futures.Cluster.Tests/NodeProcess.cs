using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Futures.Cluster.Tests;

/// <summary>
/// A node program (<c>Futures.Cluster.Node</c>) started as a separate process on loopback, with the
/// echo worker (<c>workers/echo_worker.py</c>). Waits for its "node started" line; stops it with SIGTERM
/// (SIGKILL after a bound) and can SIGKILL it on demand.
/// </summary>
internal sealed partial class NodeProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _output = new();

    private NodeProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    internal int SiloPort { get; }

    internal int GatewayPort { get; }

    internal string Gateway => $"127.0.0.1:{GatewayPort}";

    internal int Pid => _process.Id;

    /// <summary>The node's id (its silo address), from its "node started" line.</summary>
    internal string NodeId { get; private set; } = "";

    internal string Output => string.Join("\n", _output);

    /// <summary>Starts a node and waits until it serves.</summary>
    internal static NodeProcess Start(NodeProcess? seed, int workers, params string[] extra)
    {
        var node = Launch(seed, workers, extra);
        node.WaitStarted();
        return node;
    }

    /// <summary>Starts a node without waiting.</summary>
    internal static NodeProcess Launch(NodeProcess? seed, int workers, params string[] extra) =>
        Launch(seed, workers, FreePort(), extra);

    /// <summary>Starts a node with a chosen gateway port, without waiting.</summary>
    internal static NodeProcess Launch(NodeProcess? seed, int workers, int gatewayPort, params string[] extra) =>
        LaunchWith(seed is null ? ["--primary"] : ["--seed", $"127.0.0.1:{seed.SiloPort}"], workers, gatewayPort, extra);

    /// <summary>Starts a node whose membership is in Redis and waits until it serves.</summary>
    internal static NodeProcess StartRedis(string redis, int workers, params string[] extra)
    {
        var node = LaunchWith(["--cluster", redis], workers, FreePort(), extra);
        node.WaitStarted();
        return node;
    }

    /// <summary>Starts a node with extra environment variables (e.g. <c>CS_FUTURES_CLUSTER_CHAOS</c>) and
    /// waits until it serves; <paramref name="redis"/> null makes it the primary.</summary>
    internal static NodeProcess StartWith(IReadOnlyDictionary<string, string> environment, string? redis, int workers, params string[] extra)
    {
        var node = LaunchWith(redis is null ? ["--primary"] : ["--cluster", redis], workers, FreePort(), extra, environment);
        node.WaitStarted();
        return node;
    }

    private static NodeProcess LaunchWith(string[] membership, int workers, int gatewayPort, string[] extra,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        int siloPort = FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(NodeDll);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        foreach (string arg in (string[])[.. membership, "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--workers", $"{workers}", .. extra,
                     "--trace-workers", "--worker-command", Python.Value, Path.Combine(AppContext.BaseDirectory, "workers", "echo_worker.py")])
        {
            psi.ArgumentList.Add(arg);
        }
        var process = Process.Start(psi)!;
        var node = new NodeProcess(process, siloPort, gatewayPort);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => node._started.TrySetException(new InvalidOperationException("the node exited:\n" + node.Output));
        return node;
    }

    internal void WaitStarted()
    {
        Assert.That(_started.Task.Wait(StartTimeout), Is.True, "the node did not start in time:\n" + Output);
        NodeId = _started.Task.Result;
    }

    /// <summary>Waits until the node has logged <paramref name="text"/>.</summary>
    internal bool WaitForLine(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_output.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>The worker processes of this node (its children running python).</summary>
    internal List<int> WorkerPids() => ChildrenOf(Pid);

    internal void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
        }
        _process.WaitForExit(10_000);
    }

    internal bool HasExited => _process.HasExited;

    /// <summary>Waits for the node's exit (by itself); false when it is still running.</summary>
    internal bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>The exit code, once exited.</summary>
    internal int ExitCode => _process.ExitCode;

    /// <summary>SIGSTOP: the node freezes (its workers do not).</summary>
    internal void Pause() => Signal(Pid, 19);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    internal void Resume() => Signal(Pid, 18);

    /// <summary>Sends SIGTERM and waits for the exit; returns the exit code, or -1 when it did not exit
    /// in time.</summary>
    internal int Terminate(TimeSpan timeout)
    {
        Signal(Pid, 15);
        return _process.WaitForExit(timeout) ? _process.ExitCode : -1;
    }

    /// <summary>Sends SIGTERM without waiting.</summary>
    internal void SendSigterm() => Signal(Pid, 15);

    /// <summary>SIGTERM, then SIGKILL (with its workers) when it does not stop in time.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Resume(); // a paused node would not act on SIGTERM
            var workers = WorkerPids();
            Signal(Pid, 15);
            if (!_process.WaitForExit(15_000))
            {
                try
                {
                    _process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                _process.WaitForExit(10_000);
            }
            foreach (int pid in workers)
            {
                Signal(pid, 9);
            }
        }
        _process.Dispose();
    }

    internal static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    internal static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent && fields[0] != "Z")
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return children;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        var match = StartedLine().Match(line);
        if (match.Success)
        {
            _started.TrySetResult(match.Groups[1].Value);
        }
    }

    private static void Signal(int pid, int signal)
    {
        _ = Kill(pid, signal);
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"^node started: (\S+)")]
    private static partial Regex StartedLine();

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string NodeDll
    {
        get
        {
            // tests/Futures.Cluster.Tests/bin/CONFIG/net10.0 -> src/Futures.Cluster.Node/bin/CONFIG/net10.0
            var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string tfm = dir.Name, config = dir.Parent!.Name;
            string root = dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            string dll = Path.Combine(root, "src", "Futures.Cluster.Node", "bin", config, tfm, "Futures.Cluster.Node.dll");
            Assert.That(File.Exists(dll), Is.True, $"the node program is not built: {dll}");
            return dll;
        }
    }

    internal static readonly Lazy<string> Python = new(() =>
    {
        string? found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3"))
            .FirstOrDefault(File.Exists);
        Assert.That(found, Is.Not.Null, "python3 was not found on PATH; the cluster tests run the echo worker with it");
        var psi = new ProcessStartInfo(found!, ["-c", "import sys; print(sys.executable)"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        string executable = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit(30_000);
        return File.Exists(executable) ? executable : found!;
    });
}
