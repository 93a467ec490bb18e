using CsFutures.Interop.CPython;
using Python.Runtime;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Tests;

/// <summary>The one call helper (build the arguments, call, convert, release): results, errors, and
/// that it releases every reference it made, on success and on failure.</summary>
public sealed unsafe class PythonCallTests
{
    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    private static nint RefCount(IntPtr obj) => System.Runtime.InteropServices.Marshal.ReadIntPtr(obj); // ob_refcnt (a fresh list: never immortal)

    [Test]
    public void ConvertsArgumentsKeywordsAndResult()
    {
        using var add = Fn("add");
        using var echo = Fn("echo_kwargs");
        using (Gil.Acquire())
        {
            Assert.That(PythonCall.Invoke<long>(PyObjects.Address(add), [2, 3]), Is.EqualTo(5));
            Assert.That(PythonCall.Invoke<List<long>>(PyObjects.Address(add), [new[] { 1 }, new List<long> { 2 }]),
                Is.EqualTo(new[] { 1L, 2 }));
            Assert.That(PythonCall.Invoke<string>(PyObjects.Address(echo), [3],
                new Dictionary<string, object?> { ["scale"] = 2, ["suffix"] = "!" }), Is.EqualTo("6!"));
            // A read-only dictionary that is not an IDictionary takes the copying path.
            Assert.That(PythonCall.Invoke<string>(PyObjects.Address(echo), [4],
                new System.Collections.ObjectModel.ReadOnlyDictionary<string, object?>(
                    new Dictionary<string, object?> { ["suffix"] = "?" })), Is.EqualTo("4?"));
        }
    }

    [Test]
    public void PythonErrorBecomesPythonRaisedExceptionAndArgumentsAreReleased()
    {
        using var fail = Fn("fail");
        using var identity = Fn("identity");
        using var add = Fn("add");
        using (Gil.Acquire())
        {
            using var arg = PythonCall.Own(PyApi.PyList_New(0));
            nint before = RefCount(PyObjects.Address(arg));
            var e = Assert.Throws<PythonRaisedException>(() => PythonCall.Invoke<object>(PyObjects.Address(fail), ["boom"]))!;
            Assert.That((e.PythonType, e.PythonMessage), Is.EqualTo(("ValueError", "boom")));
            Assert.That(e.PythonTraceback, Does.Contain("in inner"));
            // add(a) with one argument too few: TypeError before any frame exists (a frame in the
            // traceback would keep the argument alive).
            Assert.Throws<PythonRaisedException>(() => PythonCall.Invoke<object>(PyObjects.Address(add), [arg]));
            Assert.That(RefCount(PyObjects.Address(arg)), Is.EqualTo(before), "the argument tuple was not released");
            Assert.That(PyApi.PyErr_Occurred(), Is.EqualTo(IntPtr.Zero), "the error was not taken");

            // A result that does not convert: InvalidCastException, and the result is released.
            Assert.Throws<InvalidCastException>(() => PythonCall.Invoke<long>(PyObjects.Address(identity), [arg]));
            Assert.That(RefCount(PyObjects.Address(arg)), Is.EqualTo(before), "the result was not released");
        }
    }

    [Test]
    public void CallStealingTakesItsArgumentsAndLeavesTheErrorSet()
    {
        using var identity = Fn("identity");
        using (Gil.Acquire())
        {
            using var arg = PythonCall.Own(PyApi.PyList_New(0));
            IntPtr list = PyObjects.Address(arg);
            nint before = RefCount(list);
            IntPtr result = PyCall.CallStealing(PyObjects.Address(identity), [PyApi.NewRef(list)]);
            Assert.That(result, Is.EqualTo(list));
            PyApi.Py_DecRef(result);
            Assert.That(RefCount(list), Is.EqualTo(before), "the stolen argument was not released");

            // identity([], 1) raises TypeError (too many arguments, before any frame exists): NULL
            // comes back with the error set, the arguments released.
            result = PyCall.CallStealing(PyObjects.Address(identity), [PyApi.NewRef(list), PyApi.PyLong_FromLongLong(1)]);
            Assert.That(result, Is.EqualTo(IntPtr.Zero));
            Assert.That(PyApi.PyErr_Occurred(), Is.Not.EqualTo(IntPtr.Zero));
            Assert.That(PythonErrors.FetchRaised().PythonType, Is.EqualTo("TypeError"));
            Assert.That(RefCount(list), Is.EqualTo(before), "the stolen arguments were not released");
        }
    }

    [Test]
    public void OwnAndTranslatingRaiseThePythonError()
    {
        using (Gil.Acquire())
        {
            var e = Assert.Throws<PythonRaisedException>(() => PythonCall.Own(PyApi.Import("no_such_module_cs_futures")))!;
            Assert.That(e.PythonType, Is.EqualTo("ModuleNotFoundError"));
            var t = Assert.Throws<PythonRaisedException>(() => PythonCall.Translating<int>(() =>
            {
                PythonEngine.Exec("raise KeyError('k')");
                return 0;
            }))!;
            Assert.That(t.PythonType, Is.EqualTo("KeyError"));
            Assert.That(t.PythonTraceback, Does.Contain("KeyError"));
        }
    }
}
