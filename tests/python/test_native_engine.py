"""The two engines (issue 13): the natively compiled library (no .NET runtime) and the assemblies on
CoreCLR. Which one runs, what each maps into the process, the loader's errors, and both runtimes in
one process (their signal handlers: GC and null dereferences in each while the other runs)."""
import os
import shutil
import sys
import tempfile
import textwrap
import unittest

import cs_futures
from cs_futures import _loader

from .support import PACKAGE_PATH, TIMEOUT, child_env, run_python

HAS_NATIVE = os.path.isfile(_loader.native_library())
NATIVE_BUILD_HINT = "bash -c 'source scripts/common.sh; build_native'"

# Runs in a child: one task on each kind of pool, waits of both kinds, then which engine ran, which
# .NET libraries the process maps, and whether ctypes was imported.
MAPS = textwrap.dedent("""
    import sys
    import cs_futures
    if __name__ == "__main__":
        with cs_futures.ThreadPoolExecutor(2) as pool:
            assert list(pool.map(abs, [-1, -2])) == [1, 2]
            futures = [pool.submit(abs, -n) for n in range(10)]
            assert len(cs_futures.wait(futures, timeout=60).done) == 10
            assert sorted(f.result() for f in cs_futures.as_completed(futures, timeout=60)) == list(range(10))
        with cs_futures.ProcessPoolExecutor(1) as pool:
            assert pool.submit(abs, -3).result(timeout=60) == 3
        with open("/proc/self/maps") as maps:
            text = maps.read()
        libraries = sorted({name for name in ("libcoreclr", "libhostfxr", "libclrjit", "_engine.abi3.so")
                            if name in text})
        print(cs_futures.ENGINE, " ".join(libraries), "ctypes" if "ctypes" in sys.modules else "no-ctypes")
    """)

# Runs in a child: the native engine, then CoreCLR beside it (load_runtime, enable_clr). A thread in
# each runtime allocates and forces full collections and dereferences null (a hardware fault each
# runtime's signal handler turns into a caught NullReferenceException), both at once, while Python
# tasks run on the native thread pool; then pythonnet and the pool still work.
TWO_RUNTIMES = textwrap.dedent("""
    import threading
    import cs_futures
    from cs_futures import _loader

    def stress(contract):
        kind, signature = contract.entries["test_stress"]
        assert (kind, signature) == ("wait", "i:ii"), (kind, signature)
        return contract.module.test_stress  # a "wait" entry: it runs with the GIL released

    main = _loader.load()
    assert (cs_futures.ENGINE, main.engine) == ("native", "native"), cs_futures.ENGINE
    runtime = _loader.load_runtime()
    assert runtime.engine == "runtime" and _loader.load_runtime() is runtime and runtime is not main
    caught = {}
    def run(name, entry):
        caught[name] = [entry(1500, 100) for _ in range(4)]
    threads = [threading.Thread(target=run, args=(name, stress(contract)))
               for name, contract in (("native", main), ("runtime", runtime))]
    with cs_futures.ThreadPoolExecutor(2) as pool:
        for thread in threads:
            thread.start()
        squares = list(pool.map(lambda x: x * x, range(2000)))
        for thread in threads:
            thread.join()
    assert squares == [x * x for x in range(2000)]
    assert caught == {"native": [100] * 4, "runtime": [100] * 4}, caught
    cs_futures.enable_clr()
    import System
    assert System.Math.Sqrt(16.0) == 4.0
    assert stress(main)(10, 5) == 5 and stress(runtime)(10, 5) == 5  # after pythonnet started
    with cs_futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(pow, 2, 10).result(timeout=60) == 1024
    print("ok")
    """)


class EngineTests(unittest.TestCase):
    def test_the_engine_is_the_one_this_run_asked_for(self):
        forced = os.environ.get("CS_FUTURES_ENGINE")
        expected = forced or ("native" if HAS_NATIVE else "runtime")
        self.assertEqual(cs_futures.ENGINE, expected)
        self.assertEqual(_loader.load().engine, expected)

    def run_maps(self, engine):
        result = run_python("-c", MAPS, env=child_env(CS_FUTURES_ENGINE=engine))
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        return result.stdout.split()

    @unittest.skipUnless(HAS_NATIVE, "the package holds no native engine (built without clang)")
    def test_the_native_engine_maps_no_dotnet_runtime(self):
        # The extension module and nothing of .NET's runtime; ctypes is never imported.
        self.assertEqual(self.run_maps("native"), ["native", "_engine.abi3.so", "no-ctypes"])

    def test_the_runtime_engine_runs_on_coreclr(self):
        engine, *libraries, _ = self.run_maps("runtime")
        self.assertEqual(engine, "runtime")
        self.assertIn("libcoreclr", libraries)
        self.assertNotIn("_engine.abi3.so", libraries)

    def test_an_unknown_engine_is_an_import_error(self):
        result = run_python("-c", "import cs_futures", env=child_env(CS_FUTURES_ENGINE="jit"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("ImportError: cs_futures: CS_FUTURES_ENGINE='jit': expected 'native' or 'runtime'",
                      result.stderr)

    def test_forcing_the_native_engine_without_the_library_says_how_to_build_it(self):
        with tempfile.TemporaryDirectory() as folder:
            shutil.copytree(os.path.join(PACKAGE_PATH, "cs_futures"), os.path.join(folder, "cs_futures"),
                            ignore=shutil.ignore_patterns("_engine.*", "_dotnet", "__pycache__"))
            result = run_python("-c", "import cs_futures",
                                env=dict(child_env(CS_FUTURES_ENGINE="native"), PYTHONPATH=folder))
        self.assertEqual(result.returncode, 1)
        self.assertIn("ImportError: cs_futures: CS_FUTURES_ENGINE=native, but the natively compiled "
                      "engine is missing", result.stderr)
        self.assertIn(NATIVE_BUILD_HINT, result.stderr)

    def test_load_runtime_is_the_main_contract_on_the_runtime_engine(self):
        result = run_python("-c", textwrap.dedent("""
            from cs_futures import _loader
            assert _loader.load_runtime() is _loader.load() and _loader.load().engine == "runtime"
            print("ok")
            """), env=child_env(CS_FUTURES_ENGINE="runtime"))
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "ok\n", ""))


@unittest.skipUnless(HAS_NATIVE, "the package holds no native engine (built without clang)")
class TwoRuntimesTests(unittest.TestCase):
    def test_gc_and_null_dereferences_in_both_runtimes_at_once(self):
        result = run_python("-c", TWO_RUNTIMES, env=child_env(CS_FUTURES_ENGINE="native"))
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "ok\n", ""))


if __name__ == "__main__":
    unittest.main()
