using CsFutures.Interop.Cluster;

namespace CsFutures.Interop.Tests;

/// <summary>
/// <see cref="ClusterLogLines"/>: the queue between the .NET cluster executor's log and Python's
/// <c>logging</c> (the package drains it through <c>cluster_logs</c>; the lines' way through the bridge
/// is tested in <c>tests/python/test_cluster.py</c>).
/// </summary>
public sealed class ClusterLogLinesTests
{
    [Test]
    public void LinesGetLoggingLevels()
    {
        Assert.That(ClusterLogLines.LevelOf("ClusterExecutor-1: node 127.0.0.1:1@2 lost: its endpoint refused a new connection"),
            Is.EqualTo(ClusterLogLines.Warning));
        Assert.That(ClusterLogLines.LevelOf("ClusterExecutor-1: watchdog: 3 task(s) queued, ...; registering the executor again"),
            Is.EqualTo(ClusterLogLines.Warning));
        Assert.That(ClusterLogLines.LevelOf("ClusterExecutor-1: watchdog: node n has reported no busy worker for 30 s but held 2 task(s)"),
            Is.EqualTo(ClusterLogLines.Warning));
        Assert.That(ClusterLogLines.LevelOf("ClusterExecutor-1: the watchdog gave up after 61 s: 3 task(s) queued"),
            Is.EqualTo(ClusterLogLines.Error));
        Assert.That(ClusterLogLines.LevelOf("ClusterExecutor-1: something else"), Is.EqualTo(ClusterLogLines.Info));
        Assert.That((ClusterLogLines.Info, ClusterLogLines.Warning, ClusterLogLines.Error), Is.EqualTo((20, 30, 40)),
            "Python's logging.INFO, WARNING and ERROR");
    }

    [Test]
    public void DrainTakesTheLinesInOrderOnce()
    {
        var logs = new ClusterLogLines();
        logs.Add("a");
        logs.Add("node n lost: b");
        Assert.That(logs.Drain(), Is.EqualTo(new[] { (ClusterLogLines.Info, "a"), (ClusterLogLines.Warning, "node n lost: b") }));
        Assert.That(logs.Drain(), Is.Empty);
    }

    [Test]
    public void AQueueNobodyDrainsIsBoundedAndSaysWhatItDropped()
    {
        var logs = new ClusterLogLines();
        int total = ClusterLogLines.Capacity + 25;
        for (int i = 0; i < total; i++)
        {
            logs.Add($"line {i}");
        }
        var drained = logs.Drain();
        Assert.That(drained[0].Level, Is.EqualTo(ClusterLogLines.Warning));
        Assert.That(drained[0].Line, Does.StartWith("25 log line(s) of the cluster executor were dropped"));
        Assert.That(drained, Has.Count.EqualTo(ClusterLogLines.Capacity + 1));
        Assert.That(logs.Drain(), Is.Empty);
    }
}
