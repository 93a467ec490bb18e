"""Process-level behaviour, in child interpreters: exit, Ctrl-C, fork, a missing runtime."""
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from .support import PACKAGE_PATH, TIMEOUT, child_env, run_python


class LifecycleTests(unittest.TestCase):
    def test_interpreter_exit_waits_for_pending_work(self):
        proc = run_python("-c", textwrap.dedent("""
            import time
            from cs_futures import ThreadPoolExecutor
            def late():
                time.sleep(0.3)
                print("apple", flush=True)
            ThreadPoolExecutor(2).submit(late)
            """))
        self.assertEqual((proc.returncode, proc.stdout.strip(), proc.stderr), (0, "apple", ""))

    def test_submit_during_interpreter_shutdown_raises(self):
        proc = run_python("-c", textwrap.dedent("""
            import atexit
            @atexit.register
            def run_last():
                try:
                    t.submit(id, None)
                except RuntimeError as e:
                    print("runtime-error:", e)
            from cs_futures import ThreadPoolExecutor
            t = ThreadPoolExecutor(2)
            t.submit(id, 42).result()
            """))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout.strip(), r"^runtime-error: cannot schedule new futures after")

    def test_ctrl_c_interrupts_a_blocking_wait_promptly(self):
        child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
            import threading
            from cs_futures import ThreadPoolExecutor
            gate = threading.Event()
            executor = ThreadPoolExecutor(1)
            future = executor.submit(gate.wait)
            print("ready", flush=True)
            try:
                future.result()
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                gate.set()
            """)], env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(child.stdout.readline().strip(), "ready")
            time.sleep(0.2)  # let the child enter result(); no event can say "blocked in .NET"
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=TIMEOUT)
            elapsed = time.monotonic() - sent
        finally:
            child.kill()
        self.assertEqual(out.strip(), "interrupted", err)
        self.assertLess(elapsed, 2.0, "KeyboardInterrupt took %.2f s" % elapsed)

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_a_forked_child_gets_a_clear_error(self):
        proc = run_python("-W", "ignore::DeprecationWarning", "-c", textwrap.dedent("""
            import os
            from cs_futures import ThreadPoolExecutor
            with ThreadPoolExecutor(1) as e:
                e.submit(int).result()
            pid = os.fork()
            if pid == 0:
                try:
                    ThreadPoolExecutor(1)
                except RuntimeError as exc:
                    print("child:", exc, flush=True)
                    os._exit(0)
                os._exit(1)
            _, status = os.waitpid(pid, 0)
            print("status", os.waitstatus_to_exitcode(status))
            """))
        self.assertIn("child: cs_futures cannot be used in a process created by os.fork()", proc.stdout)
        self.assertIn("status 0", proc.stdout)

    def test_missing_assemblies_give_an_import_error_that_says_how_to_build(self):
        with tempfile.TemporaryDirectory() as empty:
            proc = run_python("-c", "import cs_futures", env=child_env(CS_FUTURES_DOTNET_DIR=empty))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ImportError: cs_futures: the .NET assemblies are missing", proc.stderr)
        self.assertIn(empty, proc.stderr)
        self.assertIn("dotnet publish src/Futures.Interop", proc.stderr)

    def test_missing_runtime_gives_an_import_error_listing_what_was_tried(self):
        with tempfile.TemporaryDirectory() as empty:
            proc = run_python("-c", textwrap.dedent(f"""
                import sys
                sys.path.insert(0, {PACKAGE_PATH!r})
                from cs_futures import _loader
                _loader._USUAL_ROOTS = ({empty!r},)
                _loader.find_runtime()
                """), env=child_env(DOTNET_ROOT=empty, PATH=empty))
        self.assertIn("ImportError: cs_futures needs the .NET runtime Microsoft.NETCore.App 10.0", proc.stderr)
        self.assertIn(f"{empty} (DOTNET_ROOT): no runtime", proc.stderr)
        self.assertIn("set DOTNET_ROOT", proc.stderr)


if __name__ == "__main__":
    unittest.main()
