"""Process-level behaviour, in child interpreters: interpreter exit, atexit, Ctrl-C, os.fork()."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

from .support import WAIT, child_env, kill_group, run_child


# Run in the forked child: each use printed as "name RuntimeError" (a RuntimeError that mentions
# fork), "name <other RuntimeError message>", "name unexpected ..." or "name no error".
REPORT_EACH = """
def report_each(uses):
    for name, use in uses.items():
        try:
            use()
        except RuntimeError as exc:
            print(name, "RuntimeError" if "fork" in str(exc) else "RuntimeError without fork: %s" % exc,
                  flush=True)
        except BaseException as exc:
            print(name, "unexpected", type(exc).__name__, exc, flush=True)
        else:
            print(name, "no error", flush=True)
"""


def code(text):
    return textwrap.dedent(text).lstrip()


class ExitTests(unittest.TestCase):
    def test_interpreter_exit_waits_for_pending_work(self):
        rc, out, err = run_child(["-c", code("""
            import time
            from cs_futures import ThreadPoolExecutor
            def late():
                time.sleep(0.3)
                print("apple", flush=True)
            ThreadPoolExecutor(2).submit(late)
            """)])
        self.assertEqual((rc, out, err), (0, "apple\n", ""))

    def test_exit_runs_queued_work_of_a_dropped_executor(self):
        rc, out, err = run_child(["-c", code("""
            import threading
            from cs_futures import ThreadPoolExecutor
            gate = threading.Event()
            executor = ThreadPoolExecutor(1)
            executor.submit(gate.wait, 10)
            for word in ("pear", "plum"):
                executor.submit(print, word, flush=True)
            del executor
            gate.set()
            """)])
        self.assertEqual((rc, out, err), (0, "pear\nplum\n", ""))

    def test_submit_from_atexit_handler_registered_before_import(self):
        rc, out, err = run_child(["-c", code("""
            import atexit
            @atexit.register
            def run_last():
                try:
                    executor.submit(print, "ran")
                except RuntimeError as exc:
                    print("RuntimeError:", exc, flush=True)
                else:
                    print("no error", flush=True)
            from cs_futures import ThreadPoolExecutor
            executor = ThreadPoolExecutor(2)
            executor.submit(id, 42).result()
            """)])
        self.assertEqual((rc, err), (0, ""))
        self.assertTrue(out.startswith("RuntimeError: cannot schedule new futures"), out)
        self.assertNotIn("ran", out.replace("RuntimeError", ""))


class CtrlCTests(unittest.TestCase):
    # The child prints 'ready' only once its main thread is inside Future.result() (seen from the
    # running task through sys._current_frames), then blocks there on a task that never ends by
    # itself; the excepthook releases the task after the KeyboardInterrupt was reported, so that
    # the interpreter exit (which waits for pool work, as CPython's does) can finish.
    CHILD = code("""
        import signal, sys, threading, time
        # A shell's background job starts with SIGINT ignored, and Python then leaves it ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from cs_futures import ThreadPoolExecutor
        main_ident = threading.get_ident()
        release = threading.Event()

        def in_result():
            # result() waits in C (FutureBase): the main thread's frame is at the line that calls it.
            frame = sys._current_frames().get(main_ident)
            return frame is not None and frame.f_code.co_name == "<module>" and frame.f_lineno == RESULT_LINE

        def never_ends():
            deadline = time.monotonic() + 10
            while not in_result() and time.monotonic() < deadline:
                time.sleep(0.005)
            print("ready %d" % RESULT_LINE if in_result() else "not-in-result", flush=True)
            release.wait()

        def hook(*exc_info):
            sys.__excepthook__(*exc_info)
            release.set()

        sys.excepthook = hook
        executor = ThreadPoolExecutor(1)
        RESULT_LINE = sys._getframe().f_lineno + 2
        future = executor.submit(never_ends)
        future.result()
        print("result returned", flush=True)
        """)

    def test_sigint_interrupts_a_blocked_result(self):
        child = subprocess.Popen([sys.executable, "-c", self.CHILD], env=child_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True)
        try:
            line = child.stdout.readline()
            self.assertRegex(line, r"^ready \d+\n$")
            result_line = int(line.split()[1])
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=WAIT)
            finally:
                elapsed = time.monotonic() - sent
            out, err = child.communicate(timeout=WAIT)
        finally:
            kill_group(child)
            child.communicate()
        self.assertIn("KeyboardInterrupt", err)
        self.assertRegex(err, r'File "<string>", line %d, in <module>\n(.*\n)*KeyboardInterrupt' % result_line,
                         "the interrupt was raised in the call to result()")
        self.assertNotIn("result returned", out)
        if os.name == "posix":
            self.assertEqual(child.returncode, -signal.SIGINT, err)
        self.assertLess(elapsed, 2.0, "the child took %.2f s to exit after SIGINT" % elapsed)


@unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
class ForkTests(unittest.TestCase):
    def test_forked_child_gets_runtime_error_and_does_not_hang(self):
        rc, out, err = run_child(["-W", "ignore::DeprecationWarning", "-c", REPORT_EACH + code("""
            import os, signal
            from cs_futures import Future, ThreadPoolExecutor, as_completed, wait
            executor = ThreadPoolExecutor(1)
            executor.submit(int).result()
            pending = Future()
            pid = os.fork()
            if pid == 0:
                signal.alarm(20)  # a hang in the child ends by itself
                uses = {
                    "ThreadPoolExecutor()": lambda: ThreadPoolExecutor(1),
                    "Future()": Future,
                    "submit": lambda: executor.submit(int),
                    "result": lambda: pending.result(),
                    "wait": lambda: wait([pending]),
                    "as_completed": lambda: list(as_completed([pending])),
                }
                report_each(uses)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status), flush=True)
            # the parent goes on using the engine: the child must not have damaged it
            pending.set_result(1)
            executor.shutdown()
            print("parent ok", flush=True)
            """)], timeout=40)
        lines = out.splitlines()
        self.assertEqual(lines, ["ThreadPoolExecutor() RuntimeError", "Future() RuntimeError",
                                 "submit RuntimeError", "result RuntimeError", "wait RuntimeError",
                                 "as_completed RuntimeError", "child exit 0", "parent ok"], err)
        self.assertEqual(rc, 0, "the parent crashed after the forked child used cs_futures:\n" + err)

    def test_forked_child_future_methods_raise_runtime_error(self):
        # done(), cancel()... on a future made by the parent must not call into the child's copy of
        # .NET either (its executable memory is shared with the parent: see the test above).
        rc, out, err = run_child(["-W", "ignore::DeprecationWarning", "-c", REPORT_EACH + code("""
            import os, signal
            from cs_futures import Future
            pending = Future()
            pid = os.fork()
            if pid == 0:
                signal.alarm(20)
                uses = {
                    "done": pending.done,
                    "cancelled": pending.cancelled,
                    "running": pending.running,
                    "cancel": pending.cancel,
                    "add_done_callback": lambda: pending.add_done_callback(print),
                    "set_result": lambda: pending.set_result(1),
                }
                report_each(uses)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status), flush=True)
            """)], timeout=40)
        self.assertEqual(out.splitlines(), ["done RuntimeError", "cancelled RuntimeError",
                                            "running RuntimeError", "cancel RuntimeError",
                                            "add_done_callback RuntimeError", "set_result RuntimeError",
                                            "child exit 0"], err)

    def test_forked_child_message(self):
        rc, out, err = run_child(["-W", "ignore::DeprecationWarning", "-c", code("""
            import os, signal
            from cs_futures import ThreadPoolExecutor
            with ThreadPoolExecutor(1) as e:
                e.submit(int).result()
            pid = os.fork()
            if pid == 0:
                signal.alarm(20)
                try:
                    ThreadPoolExecutor(1)
                except RuntimeError as exc:
                    print(exc, flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
            """)], timeout=40)
        self.assertEqual(rc, 0, err)
        self.assertIn("os.fork()", out)
        self.assertIn("parent pid", out)
        self.assertIn("'spawn'", out)


if __name__ == "__main__":
    unittest.main()
