using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Futures.Cluster.Tests;

/// <summary>
/// A node's <c>--dashboard</c>, read in a real browser: headless Chromium (Debian's <c>chromium</c>,
/// installed by test.sh) loads the page while an executor runs a stream of tasks on two nodes, and a
/// small DevTools-protocol client reads the figures the page shows, twice, seconds apart. Fails (never
/// skips) when Chromium cannot be found or started.
/// </summary>
[NonParallelizable]
public sealed class DashboardTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Test]
    public void TheDashboardShowsTheClusterInABrowser()
    {
        const int count = 1500, workersPerNode = 2;
        string chromium = FindChromium();
        var watch = Stopwatch.StartNew();
        int dashboardPort = NodeProcess.FreePort();
        string url = $"http://127.0.0.1:{dashboardPort}/";
        // The primary loses the tasks of its first Take with tasks (reported started, never run), so that the
        // executor's watchdog takes them back: the page shows a reclaim and a watchdog action.
        using var primary = NodeProcess.StartWith(new Dictionary<string, string> { ["CS_FUTURES_CLUSTER_CHAOS"] = "lose-taken=1" },
            null, workersPerNode, "--dashboard", $"{dashboardPort}");
        using var second = NodeProcess.Start(primary, workersPerNode);
        Assert.That(primary.Output, Does.Contain($"dashboard {url}"), "the node logs where its dashboard is");
        var nodesUp = watch.Elapsed;
        var executor = new ClusterExecutor(new ClusterExecutorOptions { Address = primary.Gateway, WatchdogOrphanBound = TimeSpan.FromSeconds(2) });
        try
        {
            Assert.That(executor.Connected.Wait(Long), Is.True, "the executor connected");
            long completed = 0;
            var futures = new List<Future<byte[]>>(count);
            for (int i = 0; i < count; i++)
            {
                var future = executor.Submit(Encoding.UTF8.GetBytes("work:0.02"));
                future.AddDoneCallback(_ => Interlocked.Increment(ref completed));
                futures.Add(future);
            }

            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) })
            {
                var orleans = http.GetAsync(url + "orleans/").GetAwaiter().GetResult();
                Assert.That(orleans.StatusCode, Is.EqualTo(HttpStatusCode.OK), "Orleans' dashboard answers at /orleans/");
                var api = http.GetAsync(url + "api/cluster").GetAwaiter().GetResult();
                Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.OK), "/api/cluster answers");
                Assert.That(api.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            }

            using var browser = Browser.Start(chromium, url);
            var browserUp = watch.Elapsed;
            // The page polls every second; the workers start with the first tasks.
            Figures? first = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                first = browser.ReadFigures();
                if (first.Nodes == 2 && first.Workers == 2 * workersPerNode && first.Done > 0)
                {
                    break;
                }
                Thread.Sleep(250);
            }
            long executorAtFirst = Interlocked.Read(ref completed);
            Assert.That(first, Is.Not.Null);
            TestContext.Out.WriteLine($"first read at {watch.Elapsed.TotalSeconds:F1} s: {first}; the executor had completed {executorAtFirst}");
            Thread.Sleep(TimeSpan.FromSeconds(3));
            var again = browser.ReadFigures();
            long executorAtSecond = Interlocked.Read(ref completed);
            TestContext.Out.WriteLine($"second read at {watch.Elapsed.TotalSeconds:F1} s: {again}; the executor had completed {executorAtSecond}");
            SaveScreenshot(browser.Screenshot());

            foreach (var figures in (Figures[])[first!, again])
            {
                Assert.That(figures.Nodes, Is.EqualTo(2), $"the page shows both nodes: {figures}");
                Assert.That(figures.Workers, Is.EqualTo(2 * workersPerNode), $"the page shows every worker: {figures}");
                Assert.That(figures.Busy, Is.InRange(0, 2 * workersPerNode), $"busy workers: {figures}");
                Assert.That(figures.Executors, Is.EqualTo(1), $"the page shows the executor: {figures}");
                Assert.That(figures.Failed, Is.Zero, $"no task failed: {figures}");
                Assert.That(new[] { figures.Reclaimed, figures.WatchdogActions, figures.NodesLost }, Is.All.GreaterThanOrEqualTo(0),
                    $"the page shows reclaims, watchdog actions and nodes lost: {figures}");
                Assert.That(figures.NodesLost, Is.Zero, $"no node was lost: {figures}");
                // One snapshot of the executor's queue, taken under its lock: every submitted task is queued,
                // running or ended.
                Assert.That(figures.Queued + figures.Running + figures.Done + figures.Failed, Is.EqualTo(count),
                    $"queued + running + done + failed is what was submitted: {figures}");
            }
            Assert.That(first!.Done, Is.Positive, $"tasks were done at the first read: {first}");
            Assert.That(first.Done, Is.LessThanOrEqualTo(executorAtFirst), "the page's done count lags the executor's own");
            Assert.That(again.Done, Is.GreaterThan(first.Done), "the done count increased between the two reads");
            Assert.That(again.Done, Is.LessThanOrEqualTo(executorAtSecond), "the page's done count lags the executor's own");
            Assert.That(again.Rate, Is.Positive, $"tasks per second: {again}");
            Assert.That(again.ChartPoints, Is.GreaterThan(first.ChartPoints), "the tasks-per-second line grew");

            foreach (var future in futures)
            {
                future.Result(Long);
            }
            // The lost tasks were taken back at the end of the run (the primary was busy until then); the
            // executor's counts reach the page with its next registration, a second later.
            Assert.That(primary.Output, Does.Contain("chaos: lose-taken hit 1 of 1"), "the primary lost tasks");
            Assert.That(executor.Reclaimed, Is.Positive, "the executor took them back");
            Assert.That(executor.WatchdogActions, Is.Positive, "through its watchdog");
            Figures? recovered = null;
            bool shown = Eventually(() =>
            {
                recovered = browser.ReadFigures();
                return recovered.Reclaimed == executor.Reclaimed && recovered.WatchdogActions == executor.WatchdogActions
                    && recovered.NodesLost == executor.NodesLost && recovered.Done == count;
            }, TimeSpan.FromSeconds(30));
            TestContext.Out.WriteLine($"after the run: {recovered}; the executor: reclaimed {executor.Reclaimed}, " +
                $"watchdog actions {executor.WatchdogActions}, nodes lost {executor.NodesLost}");
            Assert.That(shown, Is.True, $"the page shows the executor's reclaims, watchdog actions and nodes lost: {recovered}");
            SaveScreenshot(browser.Screenshot(), "dashboard-recovered.png");
            TestContext.Out.WriteLine($"nodes up {nodesUp.TotalSeconds:F1} s, browser up {browserUp.TotalSeconds:F1} s, " +
                $"{count} tasks done at {watch.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            executor.ShutdownAsync(cancelFutures: true).Wait(TimeSpan.FromSeconds(30));
        }
    }

    [Test]
    public void DashboardOptionsParseAndStayOnLoopbackByDefault()
    {
        string[] worker = ["--worker-command", "python3", "w.py"];
        Assert.That(NodeProgram.Parse(["--primary", .. worker]).Dashboard, Is.Null);
        Assert.That(NodeProgram.Parse(["--primary", "--dashboard", "8123", .. worker]).Dashboard,
            Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 8123)));
        Assert.That(NodeProgram.Parse(["--primary", "--dashboard", "8123", "--dashboard-listen", "0.0.0.0", .. worker]).Dashboard,
            Is.EqualTo(new IPEndPoint(IPAddress.Any, 8123)));
        Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--dashboard", "http", .. worker]));
        Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--dashboard", "70000", .. worker]));
        Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--dashboard-listen", "0.0.0.0", .. worker]));
    }

    /// <summary>The figures the page shows (its elements' text).</summary>
    private sealed record Figures(long Nodes, long Workers, long Busy, long Queued, long Running, long Done, long Failed,
        double Rate, long Executors, int ChartPoints, long Reclaimed, long WatchdogActions, long NodesLost);

    private static void SaveScreenshot(byte[] png, string name = "dashboard.png")
    {
        Assert.That(png.Length, Is.GreaterThan(1000), "the screenshot is a picture");
        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string path = Path.Combine(artifacts, name);
        File.WriteAllBytes(path, png);
        // The artifact of each run; docs/dashboard.png (shown by docs/cluster.md) is a copy of one, kept as is.
        TestContext.Out.WriteLine($"screenshot: {path} ({png.Length} bytes)");
    }

    // Waits for a state of other processes (the page, the executor), polling with a bound.
    private static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            Thread.Sleep(250);
        }
        return true;
    }

    private static string FindChromium()
    {
        string? found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .SelectMany(dir => new[] { "chromium", "chromium-browser" }.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
        Assert.That(found, Is.Not.Null, "Chromium was not found (Debian: apt-get install chromium; test.sh installs it)");
        return found!;
    }

    /// <summary>Headless Chromium on one page, driven through the DevTools protocol over a web socket.</summary>
    private sealed class Browser : IDisposable
    {
        private readonly Process _process;
        private readonly string _profile;
        private readonly ClientWebSocket _socket = new();
        private readonly StringBuilder _output = new();
        private int _nextId;

        private Browser(Process process, string profile)
        {
            _process = process;
            _profile = profile;
        }

        internal static Browser Start(string chromium, string url)
        {
            int port = NodeProcess.FreePort();
            string profile = Directory.CreateTempSubdirectory("dashboard-chromium-").FullName;
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in (string[])["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--window-size=1200,800",
                         $"--user-data-dir={profile}", $"--remote-debugging-port={port}", "--remote-allow-origins=*", url])
            {
                psi.ArgumentList.Add(arg);
            }
            Process process;
            try
            {
                process = Process.Start(psi)!;
            }
            catch (Exception ex)
            {
                Assert.Fail($"Chromium ({chromium}) could not be started: {ex.Message}");
                throw;
            }
            var browser = new Browser(process, profile);
            process.OutputDataReceived += (_, e) => browser.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => browser.OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                browser.Connect(port, url);
            }
            catch
            {
                browser.Dispose();
                throw;
            }
            return browser;
        }

        private void OnLine(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        private string Output
        {
            get { lock (_output) { return _output.ToString(); } }
        }

        // Finds the page's DevTools endpoint (/json/list) and opens its web socket.
        private void Connect(int port, string url)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                Assert.That(_process.HasExited, Is.False, "Chromium exited:\n" + Output);
                try
                {
                    string list = http.GetStringAsync($"http://127.0.0.1:{port}/json/list").GetAwaiter().GetResult();
                    var page = JsonNode.Parse(list)!.AsArray()
                        .FirstOrDefault(t => (string?)t!["type"] == "page" && ((string?)t["url"] ?? "").StartsWith(url, StringComparison.Ordinal));
                    if (page?["webSocketDebuggerUrl"] is { } socketUrl)
                    {
                        _socket.ConnectAsync(new Uri((string)socketUrl!), CancellationToken.None).Wait(TimeSpan.FromSeconds(10));
                        WaitForPage(deadline);
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or AggregateException)
                {
                    // Not listening yet.
                }
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "Chromium's DevTools endpoint did not come up:\n" + Output);
                Thread.Sleep(200);
            }
        }

        // Waits until the page has loaded (the target exists before its document does).
        private void WaitForPage(DateTime deadline)
        {
            while (true)
            {
                var result = Call("Runtime.evaluate", new JsonObject
                {
                    ["expression"] = "document.readyState === 'complete' && document.querySelector('#done') !== null",
                    ["returnByValue"] = true,
                });
                if ((bool?)result["result"]?["value"] == true)
                {
                    return;
                }
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the dashboard page did not load:\n" + Output);
                Thread.Sleep(100);
            }
        }

        /// <summary>Reads the figures off the page: each element's <c>textContent</c>.</summary>
        internal Figures ReadFigures()
        {
            const string expression = """
                (() => {
                  const shown = {};
                  for (const id of ["nodes-count", "workers-count", "busy-count", "queued", "running", "done", "failed", "rate", "executors-count",
                                    "reclaimed", "watchdog-actions", "nodes-lost"]) {
                    shown[id] = document.querySelector("#" + id).textContent;
                  }
                  shown.points = document.querySelector("#chart-line").getAttribute("points");
                  return JSON.stringify(shown);
                })()
                """;
            var result = Call("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
            string? text = (string?)result["result"]?["value"];
            Assert.That(text, Is.Not.Null, "the page answered: " + result.ToJsonString());
            var values = JsonNode.Parse(text!)!.AsObject();
            long Number(string id)
            {
                string shown = ((string?)values[id] ?? "").Replace(",", "", StringComparison.Ordinal).Trim();
                return long.TryParse(shown, out long n) ? n : -1;
            }
            string rate = (string?)values["rate"] ?? "";
            string points = (string?)values["points"] ?? "";
            return new Figures(Number("nodes-count"), Number("workers-count"), Number("busy-count"), Number("queued"),
                Number("running"), Number("done"), Number("failed"),
                double.TryParse(rate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double r) ? r : -1,
                Number("executors-count"), points.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length,
                Number("reclaimed"), Number("watchdog-actions"), Number("nodes-lost"));
        }

        /// <summary>A PNG of the page (the window is 1200x800).</summary>
        internal byte[] Screenshot()
        {
            Call("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1200, ["height"] = 800, ["deviceScaleFactor"] = 1, ["mobile"] = false });
            var result = Call("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
            return Convert.FromBase64String((string)result["data"]!);
        }

        private JsonNode Call(string method, JsonObject parameters)
        {
            int id = ++_nextId;
            var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, timeout.Token)
                .GetAwaiter().GetResult();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                using var received = new MemoryStream();
                WebSocketReceiveResult part;
                do
                {
                    part = _socket.ReceiveAsync(buffer, timeout.Token).GetAwaiter().GetResult();
                    Assert.That(part.MessageType, Is.Not.EqualTo(WebSocketMessageType.Close), "Chromium closed the DevTools connection:\n" + Output);
                    received.Write(buffer, 0, part.Count);
                }
                while (!part.EndOfMessage);
                var reply = JsonNode.Parse(received.ToArray())!;
                if ((int?)reply["id"] != id)
                {
                    continue; // an event
                }
                Assert.That(reply["error"], Is.Null, $"{method} failed: {reply.ToJsonString()}");
                return reply["result"]!;
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            _process.WaitForExit(10_000);
            _process.Dispose();
            try
            {
                Directory.Delete(_profile, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
