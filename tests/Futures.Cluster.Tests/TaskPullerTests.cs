using CsFutures.Cluster.Contracts;
using CsFutures.Cluster.Dashboard;
using CsFutures.Cluster.Node;
using CsFutures.Processes;

namespace Futures.Cluster.Tests;

/// <summary>
/// A node's pull loop (<c>TaskPuller.PullAsync</c>) driven in this process by a scripted
/// <see cref="ITaskSource"/>: its worker slots come back on every way out of the loop.
/// </summary>
public sealed class TaskPullerTests
{
    private ProcessPoolExecutor? _pool;

    [TearDown]
    public void TearDown() => _pool?.Shutdown(wait: true);

    [Test]
    public async Task AFailedTakeSeenAfterTheLoopWasCancelledGivesItsSlotsBack()
    {
        var puller = Puller(workers: 2);
        int all = puller.FreeSlots;
        using var stop = new CancellationTokenSource();
        // The executor's gateway dies while the node drops the executor from its loops: the Take fails
        // with a plain error, and by the time the loop sees it, the loop's token is cancelled.
        var source = new ScriptedSource(() =>
        {
            stop.Cancel();
            return Task.FromException<TaskAssignment[]?>(new InvalidOperationException("the gateway is gone"));
        });
        await puller.PullAsync(source, stop.Token, CancellationToken.None);
        Assert.That(source.Takes, Is.EqualTo(1));
        Assert.That(puller.FreeSlots, Is.EqualTo(all), "every slot taken for the Take came back");
    }

    [Test]
    public async Task TheLoopGivesItsSlotsBackWhenTheExecutorCloses()
    {
        var puller = Puller(workers: 1);
        int all = puller.FreeSlots;
        var source = new ScriptedSource(() => Task.FromResult<TaskAssignment[]?>(null));
        await puller.PullAsync(source, CancellationToken.None, CancellationToken.None);
        Assert.That(puller.FreeSlots, Is.EqualTo(all));
    }

    private TaskPuller Puller(int workers)
    {
        _pool = new ProcessPoolExecutor(new ProcessPoolExecutorOptions
        {
            FileName = NodeProcess.Python.Value,
            Arguments = [Path.Combine(AppContext.BaseDirectory, "workers", "echo_worker.py")],
            MaxWorkers = workers,
        });
        var log = new List<string>();
        return new TaskPuller(new NodeState(_pool, 1 << 20) { NodeId = "test-node" }, null!, new NodeCounters(), line => { lock (log) { log.Add(line); } });
    }

    /// <summary>A source whose Take answers as scripted; Starting answers at once; results are kept.</summary>
    private sealed class ScriptedSource(Func<Task<TaskAssignment[]?>> take) : ITaskSource
    {
        private int _takes;

        internal int Takes => Volatile.Read(ref _takes);

        internal List<TaskResult> Results { get; } = [];

        public Task<TaskAssignment[]?> Take(string nodeId, int max)
        {
            Interlocked.Increment(ref _takes);
            return take();
        }

        public Task Starting(string nodeId, long[] ids) => Task.CompletedTask;

        public Task Completed(string nodeId, TaskResult[] results)
        {
            lock (Results)
            {
                Results.AddRange(results);
            }
            return Task.CompletedTask;
        }

    }
}
