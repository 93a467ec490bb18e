using System.Collections.Concurrent;
using System.Numerics;
using Python.Runtime;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Tests;

public sealed class ExecutorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private ThreadPoolExecutor _executor = null!;

    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    [SetUp]
    public void CreateExecutor() => _executor = PythonFixture.Runtime.CreateExecutor(4, "py-test");

    [TearDown]
    public void ShutdownExecutor() => _executor.Shutdown(wait: true, cancelFutures: true);

    [Test]
    public void ReturnsTypedResults()
    {
        var add = Fn("add");
        Assert.That(_executor.SubmitPython<long>(add, 2, 3).Result(Timeout), Is.EqualTo(5));
        Assert.That(_executor.SubmitPython<int>(add, 2, 3).Result(Timeout), Is.EqualTo(5));
        Assert.That(_executor.SubmitPython<double>(add, 0.5, 2).Result(Timeout), Is.EqualTo(2.5));
        Assert.That(_executor.SubmitPython<string>(add, "ab", "cd").Result(Timeout), Is.EqualTo("abcd"));
        Assert.That(_executor.SubmitPython<List<long>>(add, new[] { 1, 2 }, new List<int> { 3 }).Result(Timeout), Is.EqualTo(new[] { 1L, 2, 3 }));
    }

    [Test]
    public void KeywordArguments()
    {
        var f = _executor.SubmitPython<string>(Fn("echo_kwargs"), new object?[] { 3 },
            new Dictionary<string, object?> { ["scale"] = 2, ["suffix"] = "!" });
        Assert.That(f.Result(Timeout), Is.EqualTo("6!"));
    }

    [TestCase("none", null)]
    [TestCase("int", 42L)]
    [TestCase("float", 2.5)]
    [TestCase("bool", true)]
    [TestCase("str", "héllo")]
    public void NaturalConversions(string kind, object? expected)
    {
        Assert.That(_executor.SubmitPython<object?>(Fn("make"), kind).Result(Timeout), Is.EqualTo(expected));
    }

    [Test]
    public void ContainerAndLargeConversions()
    {
        var make = Fn("make");
        Assert.That(_executor.SubmitPython<byte[]>(make, "bytes").Result(Timeout), Is.EqualTo(new byte[] { 0, 1, 255 }));
        Assert.That(_executor.SubmitPython<object?>(make, "bytes").Result(Timeout), Is.EqualTo(new byte[] { 0, 1, 255 }));
        Assert.That(_executor.SubmitPython<object?>(make, "big").Result(Timeout), Is.EqualTo(BigInteger.Pow(2, 80)));
        Assert.That(_executor.SubmitPython<object?>(make, "tuple").Result(Timeout), Is.EqualTo(new List<object?> { 1L, "a" }));
        Assert.That(_executor.SubmitPython<Dictionary<string, int>>(make, "dict").Result(Timeout),
            Is.EqualTo(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }));
        var nested = (Dictionary<object, object?>)_executor.SubmitPython<object?>(make, "nested").Result(Timeout)!;
        Assert.That(nested["xs"], Is.EqualTo(new List<object?> { 1L, 2L }));
        Assert.That(nested["name"], Is.EqualTo("n"));
        Assert.That(_executor.SubmitPython<long?>(make, "none").Result(Timeout), Is.Null);
        var set = (PyObject)_executor.SubmitPython<object?>(make, "set").Result(Timeout)!;
        using (Py.GIL())
        {
            Assert.That(set.ToString(), Is.EqualTo("{1}"));
            set.Dispose(); // PyObject.Dispose needs the GIL
        }
    }

    [Test]
    public void RoundTripsDotNetValues()
    {
        var identity = Fn("identity");
        var dict = new Dictionary<string, object?> { ["k"] = new List<object?> { 1L, "x", null, true, 1.5 } };
        var back = _executor.SubmitPython<Dictionary<string, object?>>(identity, dict).Result(Timeout);
        Assert.That(back["k"], Is.EqualTo(dict["k"]));
        Assert.That(_executor.SubmitPython<BigInteger>(identity, BigInteger.Pow(10, 30)).Result(Timeout), Is.EqualTo(BigInteger.Pow(10, 30)));
        Assert.That(_executor.SubmitPython<ulong>(identity, ulong.MaxValue).Result(Timeout), Is.EqualTo(ulong.MaxValue));
    }

    [Test]
    public void ConversionFailuresAreDotNetErrors()
    {
        var make = Fn("make");
        Assert.Throws<InvalidCastException>(() => _executor.SubmitPython<long>(make, "str").Result(Timeout));
        Assert.Throws<InvalidCastException>(() => _executor.SubmitPython<long>(make, "none").Result(Timeout));
        Assert.Throws<OverflowException>(() => _executor.SubmitPython<long>(make, "big").Result(Timeout));
        Assert.Throws<OverflowException>(() => _executor.SubmitPython<int>(Fn("identity"), 1L << 40).Result(Timeout));
    }

    [Test]
    public void PythonExceptionsCarryTypeMessageTracebackAndObject()
    {
        var future = _executor.SubmitPython<object?>(Fn("fail"), "boom");
        var ex = Assert.Throws<PythonRaisedException>(() => future.Result(Timeout))!;
        Assert.That(ex.PythonType, Is.EqualTo("ValueError"));
        Assert.That(ex.PythonMessage, Is.EqualTo("boom"));
        Assert.That(ex.Message, Is.EqualTo("ValueError: boom"));
        Assert.That(ex.PythonTraceback, Does.StartWith("Traceback (most recent call last):"));
        Assert.That(ex.PythonTraceback, Does.Contain("testfuncs.py").And.Contain("in inner").And.Contain("raise ValueError(message)"));
        Assert.That(ex.Exception.Pointer, Is.Not.EqualTo(IntPtr.Zero));
        Assert.That(future.Exception(Timeout), Is.SameAs(ex));
    }

    [Test]
    public void ImportErrorsArePythonExceptions()
    {
        var ex = Assert.Throws<PythonRaisedException>(() => PythonFixture.Runtime.Import("no_such_module_here"))!;
        Assert.That(ex.PythonType, Is.EqualTo("ModuleNotFoundError"));
        ex = Assert.Throws<PythonRaisedException>(() => PythonFixture.Runtime.GetCallable("math", "no_such_function"))!;
        Assert.That(ex.PythonType, Is.EqualTo("AttributeError"));
    }

    [Test]
    public void WorkersKeepTheirThreadState()
    {
        var ids = Enumerable.Range(0, 200)
            .Select(_ => _executor.SubmitPython<long>(PythonFixture.Runtime.GetCallable("threading", "get_ident")))
            .Select(f => f.Result(Timeout)).ToHashSet();
        Assert.That(ids.Count, Is.InRange(1, 4));
    }

    [Test]
    public void PythonSeesThePoolThreadsName()
    {
        // threading.current_thread().name (and logging's %(threadName)s) is the pool's name, not Dummy-N.
        var name = _executor.SubmitPython<string>(Fn("thread_name")).Result(Timeout);
        Assert.That(name, Does.Match(@"^py-test_[0-3]$"));
    }

    [Test]
    public void MixesCSharpAndPythonWorkWithWaitAndAsCompleted()
    {
        var square = Fn("square");
        var futures = new List<Future>();
        for (int i = 0; i < 50; i++)
        {
            int n = i;
            futures.Add(_executor.SubmitPython<long>(square, n));
            futures.Add(_executor.Submit(() => (long)n * n));
        }
        var done = Futures.Wait(futures, Timeout);
        Assert.That(done.NotDone, Is.Empty);
        var results = Futures.AsCompleted(futures, Timeout).Select(f => f.ResultObject()).Cast<long>().ToList();
        Assert.That(results.Sum(), Is.EqualTo(2 * Enumerable.Range(0, 50).Sum(n => (long)n * n)));
        Assert.That(_executor.MapPython<int, long>(square, Enumerable.Range(0, 10), Timeout), Is.EqualTo(Enumerable.Range(0, 10).Select(n => (long)n * n)));
    }

    [Test]
    public void ManyThreadsSubmitAtOnce()
    {
        var add = Fn("add");
        const int Threads = 16, PerThread = 500;
        var errors = new ConcurrentQueue<Exception>();
        var all = new ConcurrentBag<(int, Future<long>)>();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                for (int i = 0; i < PerThread; i++)
                {
                    all.Add((t * PerThread + i, _executor.SubmitPython<long>(add, t * PerThread, i)));
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.That(t.Join(Timeout)));
        Assert.That(errors, Is.Empty);
        Assert.That(all, Has.Count.EqualTo(Threads * PerThread));
        foreach (var (expected, future) in all)
        {
            Assert.That(future.Result(Timeout), Is.EqualTo(expected));
        }
    }

    [Test]
    public async Task AwaitsPythonFutures()
    {
        long result = await _executor.SubmitPython<long>(Fn("add"), 40, 2);
        Assert.That(result, Is.EqualTo(42));
    }

    [Test]
    public void CancelsPendingPythonWork()
    {
        using var executor = PythonFixture.Runtime.CreateExecutor(1, "py-cancel");
        var sleep = Fn("sleep_then");
        var running = executor.SubmitPython<string>(sleep, 0.5, "first");
        var pending = Enumerable.Range(0, 5).Select(i => executor.SubmitPython<string>(sleep, 0.0, $"p{i}")).ToList();
        Assert.That(pending[0].Cancel(), Is.True);
        Assert.Throws<CancelledException>(() => pending[0].Result(Timeout));
        executor.Shutdown(wait: true, cancelFutures: true);
        Assert.That(running.Result(Timeout), Is.EqualTo("first"));
        Assert.That(pending.Skip(1).All(f => f.Cancelled()), Is.True);
    }

    [Test]
    public void ResultTimesOutWhilePythonRuns()
    {
        var f = _executor.SubmitPython<string>(Fn("sleep_then"), 0.3, "late");
        Assert.Throws<TimeoutException>(() => f.Result(TimeSpan.FromMilliseconds(20)));
        Assert.That(f.Result(Timeout), Is.EqualTo("late"));
    }
}
