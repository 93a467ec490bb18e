"""python -m cs_futures runs unmodified scripts; install()/uninstall(); the checker."""
import os
import subprocess
import sys
import unittest

from .support import PACKAGE_PATH, ROOT, run_python

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "uses_internals")


def script(name):
    return os.path.join(SCRIPTS, name)


class RunnerTests(unittest.TestCase):
    def run_both(self, name, *args):
        plain = run_python("-W", "ignore::DeprecationWarning", script(name), *args)
        ours = run_python("-W", "ignore::DeprecationWarning", "-m", "cs_futures", script(name), *args)
        return plain, ours

    def test_thread_pool_script_with_argv_and_main(self):
        plain, ours = self.run_both("as_completed_threads.py", "a", "b")
        self.assertEqual(plain.stdout, "concurrent.futures.thread 1023 ['a', 'b'] __main__\n")
        self.assertEqual(ours.stdout, "cs_futures.thread 1023 ['a', 'b'] __main__\n")
        self.assertEqual((ours.returncode, ours.stderr), (0, ""))

    def test_process_pool_script_without_main_guard(self):
        plain, ours = self.run_both("process_no_guard.py")
        self.assertEqual(ours.stdout, "[0, 1, 4, 9, 16, 25]\n")
        self.assertEqual(ours.returncode, 0, ours.stderr)
        if sys.version_info < (3, 14):
            self.assertEqual(ours.stdout, plain.stdout)  # 'fork': the standard library runs it too
        else:
            # 'forkserver', 3.14's default: the standard library's server imports the main module,
            # which starts another pool there, and multiprocessing refuses (docs/differences.md).
            self.assertNotEqual(plain.returncode, 0)
            self.assertIn("RuntimeError", plain.stderr)

    def test_asyncio_run_in_executor(self):
        plain, ours = self.run_both("asyncio_executor.py")
        self.assertEqual(ours.stdout, "cs_futures.thread [1, 3, 9, 27]\n")
        self.assertEqual(ours.returncode, 0, ours.stderr)

    def test_an_uncaught_exception_prints_the_same_traceback_and_exit_code(self):
        plain, ours = self.run_both("raises.py")
        self.assertEqual(ours.returncode, plain.returncode)
        self.assertEqual(ours.returncode, 1)
        self.assertTrue(ours.stderr.startswith("Traceback (most recent call last):\n  File \"%s\", line 9, in <module>"
                                               % script("raises.py")), ours.stderr)
        self.assertEqual(ours.stderr.splitlines()[-1], "ValueError: from the task")
        self.assertEqual(ours.stderr.splitlines()[-1], plain.stderr.splitlines()[-1])
        self.assertNotIn("runpy", ours.stderr)
        self.assertNotIn("__main__.py", ours.stderr)

    def test_sys_exit_code(self):
        plain, ours = self.run_both("exits.py")
        self.assertEqual((ours.returncode, plain.returncode), (3, 3))
        self.assertEqual(ours.stdout, "before exit cs_futures.thread\n")

    def test_dash_m_runs_a_module(self):
        env = dict(os.environ, PYTHONPATH=PACKAGE_PATH + os.pathsep + SCRIPTS)
        proc = subprocess.run([sys.executable, "-m", "cs_futures", "-m", "as_completed_threads", "x"],
                              env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.stdout, "cs_futures.thread 1023 ['x'] __main__\n", proc.stderr)


class InstallTests(unittest.TestCase):
    def test_install_uninstall_twice_and_third_party_imports(self):
        proc = run_python("-c", """
import cs_futures
cs_futures.install(); cs_futures.install()
import concurrent.futures, concurrent.futures.thread as t
from concurrent.futures import ThreadPoolExecutor
print(concurrent.futures is cs_futures, t.ThreadPoolExecutor is cs_futures.ThreadPoolExecutor)
cs_futures.uninstall(); cs_futures.uninstall()
import concurrent.futures as again
print(again is cs_futures)
""")
        self.assertEqual(proc.stdout.split(), ["True", "True", "False"], proc.stderr)

    def test_install_after_stdlib_executors_ran_is_an_error(self):
        proc = run_python("-c", """
import concurrent.futures as std
pool = std.ThreadPoolExecutor(1); pool.submit(int).result()
import cs_futures
try:
    cs_futures.install()
except RuntimeError as e:
    print("refused:", e)
""")
        self.assertIn("refused: cs_futures.install(): 1 standard-library executor(s) already run workers", proc.stdout)


class CheckerTests(unittest.TestCase):
    def test_findings_on_code_that_reaches_into_internals(self):
        proc = run_python("-m", "cs_futures", "check", FIXTURES)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        path = os.path.join(FIXTURES, "internals.py")
        lines = proc.stdout.splitlines()
        self.assertEqual([line.split(": ")[1].split()[0] for line in lines],
                         ["CF110", "CF101", "CF102", "CF202"], proc.stdout)
        self.assertTrue(all(line.startswith(path + ":") for line in lines))
        self.assertIn(f"{path}:5: CF110 subclass of ThreadPoolExecutor overrides _adjust_thread_count()", proc.stdout)

    def test_clean_code_exits_zero(self):
        proc = run_python("-m", "cs_futures", "check", os.path.join(FIXTURES, "clean.py"))
        self.assertEqual((proc.returncode, proc.stdout), (0, ""))


if __name__ == "__main__":
    unittest.main()
