using System.Diagnostics;

namespace CsFutures.Interop.Tests;

/// <summary><c>MapPython</c>'s timeout is one monotonic deadline counted from the call (Python's
/// <c>end_time = timeout + time.monotonic()</c>), for the thread pool and the process pool.</summary>
public sealed class MapDeadlineTests
{
    [Test]
    public void ThreadPoolMapTimesOutAtTheDeadline()
    {
        using var executor = PythonFixture.Runtime.CreateExecutor(2, "deadline");
        var busy = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "busy_pid");
        var clock = Stopwatch.StartNew();
        using var results = executor.MapPython<double, long>(busy, [0.0, 1.5], TimeSpan.FromMilliseconds(300)).GetEnumerator();
        Assert.That(results.MoveNext(), Is.True, "the quick item is in time");
        Assert.That(() => results.MoveNext(), Throws.TypeOf<TimeoutException>());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1.4)), "the slow item was not waited for");
    }

    [Test]
    public void ProcessPoolMapTimesOutAtTheDeadline()
    {
        using var pool = new Processes.PythonProcessPoolExecutor(PythonFixture.Runtime,
            new Processes.PythonProcessPoolOptions { MaxWorkers = 1 });
        var busy = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "busy_pid");
        var clock = Stopwatch.StartNew();
        var results = pool.MapPython<double, long>(busy, [3.0], TimeSpan.FromMilliseconds(300));
        Assert.That(() => results.ToList(), Throws.TypeOf<TimeoutException>());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2.9)), "the deadline, not the task, ended the wait");
        pool.Engine.KillWorkers(); // the busy task need not finish; Dispose then returns at once
    }
}
