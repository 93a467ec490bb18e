"""Run by tests/native/no_dotnet.sh with the installed wheel in a private mount namespace where no
.NET runtime can be found: the native engine runs the pools and python -m cs_futures, maps no .NET
runtime, and what needs CoreCLR fails with the ImportError that says what to install."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import cs_futures
from cs_futures import _loader

TIMEOUT = 60


def mapped_dotnet():
    with open("/proc/self/maps") as maps:
        text = maps.read()
    return sorted({name for name in ("libcoreclr", "libhostfxr", "libclrjit", "System.Private.CoreLib")
                   if name in text})


class NoDotnetTests(unittest.TestCase):
    def test_no_runtime_can_be_found(self):
        self.assertIsNone(shutil.which("dotnet"))
        self.assertNotIn("DOTNET_ROOT", os.environ)
        with self.assertRaisesRegex(ImportError, "cs_futures needs the .NET runtime"):
            _loader.find_runtime()

    def test_the_installed_wheel_runs_the_native_engine(self):
        self.assertIn("site-packages", cs_futures.__file__)
        self.assertEqual(cs_futures.ENGINE, "native")

    def test_thread_and_process_pools_map_no_dotnet_runtime(self):
        with cs_futures.ThreadPoolExecutor(4) as pool:
            self.assertEqual(list(pool.map(abs, range(-50, 0))), list(range(50, 0, -1)))
        with cs_futures.ProcessPoolExecutor(2) as pool:
            self.assertEqual(sum(pool.map(abs, range(-20, 0), chunksize=3)), 210)
            self.assertEqual(pool.submit(pow, 2, 8).result(timeout=TIMEOUT), 256)
        futures = [cs_futures.ThreadPoolExecutor(1).submit(abs, -i) for i in range(5)]
        done, _ = cs_futures.wait(futures, timeout=TIMEOUT)
        self.assertEqual(len(done), 5)
        self.assertEqual(mapped_dotnet(), [])

    def test_python_m_cs_futures_runs_a_script(self):
        script = textwrap.dedent("""
            import concurrent.futures as cf, os
            if __name__ == "__main__":
                with cf.ProcessPoolExecutor(2) as pool:
                    total = sum(pool.map(abs, range(-10, 0)))
                with cf.ThreadPoolExecutor(2) as pool:
                    name = pool.submit(lambda: type(pool).__module__).result()
                import cs_futures
                maps = open("/proc/self/maps").read()
                print(total, name, cs_futures.ENGINE, "libcoreclr" in maps or "libhostfxr" in maps)
            """)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "script.py")
            with open(path, "w") as f:
                f.write(script)
            result = subprocess.run([sys.executable, "-m", "cs_futures", path], capture_output=True,
                                    text=True, timeout=TIMEOUT, cwd=folder)
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        self.assertEqual(result.stdout, "55 cs_futures.thread native False\n")

    def assert_names_what_to_install(self, message, needed_by):
        self.assertIn(needed_by, message)
        self.assertIn("needs the .NET runtime, which the native engine does not", message)
        self.assertIn("install the .NET 10 runtime (https://dot.net), or set DOTNET_ROOT", message)

    def test_enable_clr_fails_naming_what_to_install(self):
        with self.assertRaises(ImportError) as raised:
            cs_futures.enable_clr()
        self.assert_names_what_to_install(str(raised.exception), "enable_clr()")
        self.assertEqual(mapped_dotnet(), [])

    def test_the_cluster_executor_fails_naming_what_to_install(self):
        with self.assertRaises(ImportError) as raised:
            cs_futures.ClusterExecutor(max_workers=1)
        self.assert_names_what_to_install(str(raised.exception), "ClusterExecutor")
        self.assertEqual(mapped_dotnet(), [])



def load_tests(loader, tests, pattern):
    """These checks, then the package's thread-pool, process-pool and migration tests, without the
    .NET-delegate tests (DotnetCallableTests): they need pythonnet on CoreCLR, which this environment
    lacks by construction; test_enable_clr_fails_naming_what_to_install checks what they get instead."""
    from tests.python import test_migration, test_process_pool, test_thread_pool
    suite = unittest.TestSuite([tests])
    for module in (test_thread_pool, test_process_pool, test_migration):
        for case in loader.loadTestsFromModule(module):
            if not any(isinstance(test, test_thread_pool.DotnetCallableTests) for test in case):
                suite.addTest(case)
    return suite


if __name__ == "__main__":
    unittest.main()
