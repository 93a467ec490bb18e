using CsFutures.Interop.Bridge;
using Python.Runtime;

namespace CsFutures.Interop.Tests;

/// <summary>
/// The bridge as the extension module <c>cs_futures._engine</c> (<see cref="EngineModule"/>), made
/// here through <see cref="NativeEntryPoints.CreateModule"/> as the runtime-hosted package makes it,
/// and called from Python code: every entry is a builtin, arguments are converted by the signature,
/// and a bad call is a Python exception, never a crash.
/// </summary>
public sealed unsafe class EngineModuleTests
{
    private static PyObject Module()
    {
        var create = (delegate* unmanaged<IntPtr, IntPtr>)NativeEntryPoints.ModuleFactory;
        IntPtr module = create(IntPtr.Zero); // the C API is resolved already (the fixture's interpreter)
        Assert.That(module, Is.Not.EqualTo(IntPtr.Zero), "CreateModule returned NULL");
        return CsFutures.Interop.Runtime.PyObjects.Steal(module);
    }

    private static PyObject Run(string code, PyObject module)
    {
        using var scope = Py.CreateScope();
        scope.Set("engine", module);
        scope.Exec(code);
        return scope.Get("result");
    }

    [Test]
    public void EveryEntryIsABuiltinOfTheModule()
    {
        using (Py.GIL())
        {
            using var module = Module();
            var names = NativeEntryPoints.Entries().Select(e => e.Name).ToList();
            using var result = Run(
                "import types\n" +
                "result = sorted(n for n in dir(engine) if isinstance(getattr(engine, n), types.BuiltinFunctionType))\n",
                module);
            Assert.That(result.As<string[]>(), Is.EquivalentTo(names));
            Assert.That(module.GetAttr("VERSION").As<int>(), Is.EqualTo(NativeEntryPoints.Version));
            Assert.That(module.GetAttr("DESCRIPTION").As<string>(), Is.EqualTo(NativeEntryPoints.Description()));
            Assert.That(module.GetAttr("__name__").As<string>(), Is.EqualTo("cs_futures._engine"));
        }
    }

    [Test]
    public void FutureBaseKeepsTheHandleAndAnswersFromTheEngine()
    {
        using (Py.GIL())
        {
            using var module = Module();
            using var result = Run(
                "class F(engine.FutureBase):\n" +
                "    def _result_slow(self, timeout=None): return ('slow', timeout)\n" +
                "    _exception_slow = _result_slow\n" +
                "f = F()\n" +
                "unset = f._h\n" +
                "f._h = engine.future_new()\n" +
                "before = [f.done(), f.running(), f.cancelled(), f.result(timeout=0.01), f.exception(0.01)]\n" + // waited here: the Python method's last look
                "f._has_condition = True\n" + // code that reached for _condition: the Python method waits
                "under_condition = [f.result(timeout=2), f.exception(3)]\n" +
                "engine.future_set(f._h, 0, 'value')\n" + // Outcome.Result
                "result = [unset, before, under_condition, [f.done(), f.running(), f.cancelled(), f.result(), f.exception()]]\n" +
                "engine.handle_free(f._h, 1)\n",
                module);
            Assert.That(result.ToString(),
                Is.EqualTo("[0, [False, False, False, ('slow', 0.0), ('slow', 0.0)], [('slow', 2), ('slow', 3)], [True, False, False, 'value', None]]"));
        }
    }

    [Test]
    public void AFutureGoesThroughTheBuiltins()
    {
        using (Py.GIL())
        {
            using var module = Module();
            using var result = Run(
                "h = engine.future_new()\n" +
                "states = [engine.future_state(h)]\n" +
                "engine.future_set(h, 0, 'value')\n" + // Outcome.Result
                "states.append(engine.future_state(h))\n" +
                "waited = engine.future_wait(h, 0.5)\n" + // a 'wait' entry: the GIL released and taken back
                "mask = bytearray(1)\n" +
                "cursor = engine.wait_new([h], 1, 2, mask)\n" + // ALL_COMPLETED holds: None, the mask filled
                "result = (isinstance(h, int), states, engine.future_outcome(h, 0), waited, cursor, bytes(mask),\n" +
                "          engine.handle_free(h, 1), engine.get_version())\n",
                module);
            Assert.That(result.ToString(), Is.EqualTo(
                $"(True, [{(int)CsFutures.FutureState.Pending}, {(int)CsFutures.FutureState.Finished}], 'value', 1, None, b'\\x01', 0, {NativeEntryPoints.Version})"));
        }
    }

    [TestCase("engine.future_state()", "TypeError: future_state() takes 1 positional argument but 0 were given")]
    [TestCase("engine.future_set(1, 2)", "TypeError: future_set() takes 3 positional arguments but 2 were given")]
    [TestCase("engine.future_state('not a handle')", "TypeError")]
    [TestCase("engine.future_wait(engine.future_new(), 'soon')", "TypeError")]
    [TestCase("engine.cursor_new(5, 1)", "TypeError: cursor_new(): expected a list or tuple of handles")]
    [TestCase("engine.wait_new([], 0, 2, b'')", "TypeError: wait_new(): expected a bytearray")]
    [TestCase("engine.future_state(123456789)", "RuntimeError: cs_futures: handle 0x75bcd15 does not refer to a live .NET object")]
    public void ABadCallIsAPythonException(string call, string expected)
    {
        using (Py.GIL())
        {
            using var module = Module();
            using var result = Run(
                "try:\n" +
                $"    {call}\n" +
                "    result = 'no exception'\n" +
                "except Exception as exc:\n" +
                "    result = f'{type(exc).__name__}: {exc}'\n",
                module);
            Assert.That(result.As<string>(), Does.StartWith(expected));
        }
    }

    [Test]
    public void EverySignatureHasAnInvoker()
    {
        foreach (var entry in NativeEntryPoints.Entries())
        {
            Assert.That(() => EntryInvokers.For(entry.Signature), Throws.Nothing, entry.Name);
        }
        Assert.That(() => EntryInvokers.For("i:hhhhhhh"), Throws.TypeOf<NotSupportedException>()
            .With.Message.Contains("add one to EntryInvokers"));
    }
}
