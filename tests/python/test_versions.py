"""Python versions: every public name of the running interpreter's concurrent.futures is importable
from cs_futures (and under ``python -m cs_futures``), names that newer versions add are forwarded
from the standard library, free-threaded builds are refused, the forkserver start method (3.14's
default on Linux) works, and the package does not cap the Python version.

Python 3.14 and 3.15 cannot be installed here: their additions are simulated by patching a fake
name and a fake submodule into the standard ``concurrent.futures`` before cs_futures is imported,
the way 3.14 adds ``InterpreterPoolExecutor`` (in ``__all__``, imported lazily from a submodule that
subclasses the standard thread pool's internals).
"""
import concurrent.futures as std
import os
import sys
import textwrap
import tomllib
import types
import unittest

import cs_futures
from .support import ROOT, run_child

# Patches the standard library as a newer CPython would look: a submodule ``fakepool`` whose
# executor subclasses ``concurrent.futures.thread.ThreadPoolExecutor`` (relative import, as 3.14's
# ``interpreter`` does), its executor listed in ``__all__`` and served by the module's
# ``__getattr__``, and a new public name in ``concurrent.futures.thread``.
NEWER_STDLIB = textwrap.dedent("""\
    import importlib, os, sys, tempfile
    import concurrent.futures as std, concurrent.futures.thread as std_thread
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "fakepool.py"), "w") as f:
        f.write("from . import thread as _thread\\n"
                "class FakePoolExecutor(_thread.ThreadPoolExecutor):\\n"
                "    pass\\n")
    std.__path__.append(folder)
    std.__all__ = list(std.__all__) + ["FakePoolExecutor"]
    _std_getattr = getattr(std, "__getattr__", None)  # 3.15 has none: its new names are lazy imports
    def __getattr__(name):
        if name == "FakePoolExecutor":
            return importlib.import_module("concurrent.futures.fakepool").FakePoolExecutor
        if _std_getattr is None:
            raise AttributeError(f"module {std.__name__!r} has no attribute {name!r}")
        return _std_getattr(name)
    std.__getattr__ = __getattr__
    std_thread.FakeContext = type("FakeContext", (), {})
    STD_THREAD_POOL = std_thread.ThreadPoolExecutor
    """)

# Runs ``python -m cs_futures SCRIPT ARGS...`` in this process, after NEWER_STDLIB.
RUN_AS_MAIN = textwrap.dedent("""\
    import runpy
    sys.argv = ["cs_futures"] + sys.argv[1:]
    runpy.run_module("cs_futures", run_name="__main__", alter_sys=True)
    """)


def public_names(module):
    return {name for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)}


class NamesTests(unittest.TestCase):
    def test_every_name_of_this_interpreters_module_is_importable(self):
        for name in std.__all__:
            self.assertTrue(hasattr(cs_futures, name), name)
        star = {}
        exec("from cs_futures import *", star)
        self.assertLessEqual(set(std.__all__), set(star))
        self.assertLessEqual(set(dir(std)), set(dir(cs_futures)))

    def test_submodules_have_every_public_name_of_the_standard_ones(self):
        from concurrent.futures import _base, process, thread
        for ours, theirs in ((cs_futures._base, _base), (cs_futures.thread, thread),
                             (cs_futures.process, process)):
            missing = public_names(theirs) - set(dir(ours))
            self.assertEqual(missing, set(), ours.__name__)

    def test_the_runner_serves_every_name_and_the_same_dir(self):
        code, out, err = run_child([
            "-m", "cs_futures", os.path.join(os.path.dirname(__file__), "scripts", "names.py"),
            *std.__all__])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out.splitlines(), ["cs_futures", "missing: []", "dir missing: []"])


class NewerStdlibTests(unittest.TestCase):
    """What a newer CPython adds reaches cs_futures' users, bound to the standard library."""

    def run_code(self, code, *args):
        code, out, err = run_child(["-c", NEWER_STDLIB + textwrap.dedent(code), *args])
        self.assertEqual(code, 0, err)
        return out.splitlines()

    def test_a_new_name_is_forwarded_from_the_standard_module(self):
        out = self.run_code("""\
            import cs_futures
            print("FakePoolExecutor" in cs_futures.__all__, "FakePoolExecutor" in dir(cs_futures))
            fake = cs_futures.FakePoolExecutor
            print(fake.__module__, fake.__mro__[1] is STD_THREAD_POOL)
            from cs_futures import FakePoolExecutor
            print(FakePoolExecutor is fake, cs_futures.thread.FakeContext is std_thread.FakeContext)
            """)
        self.assertEqual(out, ["True True", "concurrent.futures.fakepool True", "True True"])

    def test_the_runner_forwards_a_new_submodule_bound_to_the_standard_modules(self):
        script = os.path.join(os.path.dirname(__file__), "scripts", "newer_stdlib.py")
        out = self.run_code(RUN_AS_MAIN, script)
        self.assertEqual(out, [
            "cs_futures cs_futures.thread",      # the aliased package and thread pool
            "concurrent.futures.thread True",     # the fake executor subclasses the real one
            "True True",                         # import forms agree
            "2",                                 # and it runs
            "True True",                         # listed in __all__ and dir()
            "True",                              # the new name of the thread submodule
        ])

    def test_uninstall_removes_the_forwarded_submodule(self):
        out = self.run_code("""\
            import cs_futures
            cs_futures.install()
            import concurrent.futures.fakepool
            print(concurrent.futures.fakepool.__name__, cs_futures.fakepool.FakePoolExecutor.__mro__[1] is STD_THREAD_POOL)
            cs_futures.uninstall()
            import concurrent.futures
            print(hasattr(cs_futures, "fakepool"), concurrent.futures is std, std.fakepool.__name__)
            """)
        self.assertEqual(out, ["concurrent.futures.fakepool True",
                               "False True concurrent.futures.fakepool"])


class FreeThreadedTests(unittest.TestCase):
    def test_a_free_threaded_build_is_refused_before_dotnet_loads(self):
        code, out, err = run_child(["-c", textwrap.dedent("""\
            import sys
            sys.abiflags += "t"  # what a free-threaded build (python3.13t) has
            try:
                import cs_futures
            except ImportError as exc:
                print(type(exc).__name__, exc.name)
                print(exc)
            print(sorted(m for m in sys.modules if m.startswith("cs_futures")))
            """)])
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "ImportError cs_futures")
        self.assertIn("does not support free-threaded CPython builds", lines[1])
        self.assertIn("Use the default build of CPython 3.11 or newer", lines[1])
        self.assertEqual(lines[2], "[]")  # nothing half-imported, .NET never loaded

    def test_the_default_build_is_accepted(self):
        import sysconfig
        self.assertFalse(sysconfig.get_config_var("Py_GIL_DISABLED"))
        self.assertNotIn("t", sys.abiflags)
        self.assertFalse(cs_futures._gil_disabled_build())
        self.assertIsNone(cs_futures._refuse_free_threaded())


class StartMethodTests(unittest.TestCase):
    """Python 3.14 makes 'forkserver' the default start method on Linux."""

    def test_a_forkserver_default_makes_the_pool_start_workers_on_demand_as_cpython(self):
        code, out, err = run_child(["-c", textwrap.dedent("""\
            import multiprocessing as mp
            import concurrent.futures as std
            import cs_futures
            if __name__ == "__main__":
                mp.set_start_method("forkserver")
                with cs_futures.ProcessPoolExecutor(2) as ours:
                    reference = std.ProcessPoolExecutor(2)
                    print(ours._mp_context.get_start_method(), ours._safe_to_dynamically_spawn_children,
                          reference._safe_to_dynamically_spawn_children)
                    reference.shutdown()
                    print(list(ours.map(abs, [-1, -2, -3])))
            """)], timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["forkserver True True", "[1, 2, 3]"])

    def test_a_forkserver_child_can_use_cs_futures_when_the_parent_loaded_dotnet(self):
        code, out, err = run_child([os.path.join(os.path.dirname(__file__), "scripts", "forkserver_child.py")],
                                   timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["parent 3", "child ('ok', 5)", "exit 0"])


    def test_the_forkserver_preloads_no_main_module_that_would_load_dotnet(self):
        # 3.14's forkserver imports __main__ before forking; cs_futures keeps it out of the default
        # list, whether multiprocessing.forkserver is imported after it or before. A list the user
        # sets is kept, and before 3.14 (where the main path never reached the server) nothing changes.
        default = "[]" if sys.version_info >= (3, 14) else "['__main__']"
        for imports, expected in (
                ("import cs_futures; import multiprocessing.forkserver as f", default),
                ("import multiprocessing.forkserver as f; import cs_futures", default),
                ("import cs_futures, multiprocessing as mp; mp.set_forkserver_preload(['__main__', 'json']); "
                 "import multiprocessing.forkserver as f", "['__main__', 'json']")):
            with self.subTest(imports=imports):
                code, out, err = run_child(["-c", imports + "; print(f._forkserver._preload_modules)"], timeout=60)
                self.assertEqual((code, out.strip()), (0, expected), err)


class PackagingTests(unittest.TestCase):
    def test_no_upper_cap_on_the_python_version(self):
        with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
            project = tomllib.load(f)["project"]
        self.assertEqual(project["requires-python"], ">=3.11")

    def test_the_classifiers_name_the_version_under_test(self):
        # The suite runs on 3.11-3.15 (test.sh): each run checks that its own version is declared.
        with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
            classifiers = tomllib.load(f)["project"]["classifiers"]
        self.assertIn("Programming Language :: Python :: %d.%d" % sys.version_info[:2], classifiers)


if __name__ == "__main__":
    unittest.main()
