"""cs_futures.InterpreterPoolExecutor: Python 3.14's concurrent.futures.InterpreterPoolExecutor on
3.12 and later (written from 3.14's documentation; 3.14 is not installed here). On 3.11 the
executor refuses to start with an error naming the version needed, which the tests assert there.
"""
import asyncio
import json
import os
import pickle
import sys
import textwrap
import unittest

import cs_futures
from cs_futures import (ALL_COMPLETED, BrokenExecutor, InterpreterPoolExecutor, ThreadPoolExecutor,
                        as_completed, wait)
from cs_futures.interpreter import BrokenInterpreterPool, ExecutionFailed
from cs_futures.thread import BrokenThreadPool

from . import interp_tasks as tasks
from .support import ROOT, WAIT, run_child

SUPPORTED = sys.version_info >= (3, 12)
# CPython 3.14's rules for what crosses into another interpreter (closures refused, functions
# without state sent as their code), and its NotShareableError.
CROSS_INTERPRETER_RULES = sys.version_info >= (3, 14)
if CROSS_INTERPRETER_RULES:
    from concurrent.interpreters import NotShareableError



class VersionTests(unittest.TestCase):
    def test_supported_from_3_12_with_a_clear_error_before(self):
        if SUPPORTED:
            with InterpreterPoolExecutor(1) as pool:
                self.assertEqual(pool.submit(tasks.version).result(WAIT), sys.version_info[:2])
        else:
            with self.assertRaises(NotImplementedError) as caught:
                InterpreterPoolExecutor(1)
            self.assertIn("needs Python 3.12 or newer", str(caught.exception))
            self.assertIn("ProcessPoolExecutor", str(caught.exception))

    def test_exported_like_the_standard_library_of_3_14(self):
        self.assertIn("InterpreterPoolExecutor", cs_futures.__all__)
        self.assertTrue(issubclass(BrokenInterpreterPool, BrokenThreadPool))
        self.assertTrue(issubclass(InterpreterPoolExecutor, ThreadPoolExecutor))
        self.assertEqual(BrokenInterpreterPool.__module__, "concurrent.futures.interpreter")

    def test_served_as_concurrent_futures_by_python_m_cs_futures(self):
        script = textwrap.dedent("""
            import sys
            import concurrent.futures
            from concurrent.futures import InterpreterPoolExecutor
            from concurrent.futures.interpreter import BrokenInterpreterPool
            import cs_futures
            assert InterpreterPoolExecutor is cs_futures.InterpreterPoolExecutor
            assert concurrent.futures.interpreter is cs_futures.interpreter
            def square(x):          # __main__: crosses by value
                return x * x
            try:
                with InterpreterPoolExecutor(2) as pool:
                    print(sorted(pool.map(square, range(5))))
            except NotImplementedError as exc:
                print("refused", sys.version_info[:2] < (3, 12))
        """)
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "uses_interpreters.py")
            with open(path, "w") as f:
                f.write(script)
            rc, out, err = run_child(["-m", "cs_futures", path], cwd=ROOT)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "[0, 1, 4, 9, 16]" if SUPPORTED else "refused True")


if SUPPORTED:
    class SubmitTests(unittest.TestCase):
        def setUp(self):
            self.pool = InterpreterPoolExecutor(max_workers=2)
            self.addCleanup(self.pool.shutdown, wait=True)

        def test_submit_result_args_and_kwargs(self):
            self.assertEqual(self.pool.submit(tasks.double, 21).result(WAIT), 42)
            self.assertEqual(self.pool.submit(tasks.add, 1, 2, c=3).result(WAIT), 6)
            self.assertIsInstance(self.pool.submit(tasks.double, 1), cs_futures.Future)

        def test_map_in_order(self):
            self.assertEqual(list(self.pool.map(tasks.double, range(20), timeout=WAIT)),
                             [2 * i for i in range(20)])

        def test_runs_in_other_interpreters_of_this_process(self):
            main_id = tasks.interpreter_id()
            ids = {self.pool.submit(tasks.interpreter_id).result(WAIT) for _ in range(10)}
            self.assertNotIn(main_id, ids)
            self.assertLessEqual(len(ids), 2)
            self.assertEqual(self.pool.submit(tasks.pid).result(WAIT), os.getpid())

        def test_each_worker_keeps_its_interpreter_and_its_state(self):
            with InterpreterPoolExecutor(1) as pool:
                self.assertEqual(pool.submit(tasks.remember, "a").result(WAIT), ["a"])
                self.assertEqual(pool.submit(tasks.remember, "b").result(WAIT), ["a", "b"])
            self.assertEqual(tasks.STATE, [])  # the caller's module is another object

        def test_two_workers_run_at_the_same_time(self):
            # The first task blocks until the second one writes: both must run at once.
            read_end, write_end = os.pipe()
            self.addCleanup(os.close, read_end)
            self.addCleanup(os.close, write_end)
            blocked = self.pool.submit(tasks.block_on, read_end)
            self.pool.submit(os.write, write_end, b"x").result(WAIT)
            self.assertEqual(blocked.result(WAIT), b"x")

        def test_exception_is_the_original_with_the_summary_as_cause(self):
            future = self.pool.submit(tasks.fail, "boom")
            with self.assertRaises(ValueError) as caught:
                future.result(WAIT)
            self.assertEqual(str(caught.exception), "boom")
            cause = caught.exception.__cause__
            self.assertIsInstance(cause, ExecutionFailed)
            self.assertEqual(cause.excinfo.type.__name__, "ValueError")
            self.assertEqual(cause.excinfo.msg, "boom")
            self.assertIn("in fail", cause.excinfo.errdisplay)
            if CROSS_INTERPRETER_RULES:  # the standard library's class, with 3.14's excinfo
                from concurrent.interpreters import ExecutionFailed as StdExecutionFailed
                self.assertIs(type(cause), StdExecutionFailed)
                self.assertEqual(cause.excinfo.formatted, "ValueError: boom")
            self.assertIn("Uncaught in the interpreter", str(cause))
            self.assertIsInstance(future.exception(WAIT), ValueError)

        def test_exception_that_cannot_cross_gives_the_summary_itself(self):
            with self.assertRaises(ExecutionFailed) as caught:
                self.pool.submit(tasks.fail_unpicklable).result(WAIT)
            self.assertEqual(caught.exception.excinfo.type.__qualname__, "Unpicklable")
            self.assertIn("fail_unpicklable", caught.exception.excinfo.errdisplay)

        def test_result_that_cannot_be_pickled_fails_that_future(self):
            with self.assertRaises(TypeError) as caught:
                self.pool.submit(tasks.return_lock).result(WAIT)
            self.assertIsInstance(caught.exception.__cause__, ExecutionFailed)
            self.assertEqual(self.pool.submit(tasks.double, 2).result(WAIT), 4)  # pool still healthy

        def test_argument_that_cannot_be_pickled(self):
            # 3.12/3.13: the pickling error at submit; 3.14+: as CPython 3.14, its future fails
            # with NotShareableError.
            import threading
            if CROSS_INTERPRETER_RULES:
                future = self.pool.submit(tasks.double, threading.Lock())
                with self.assertRaises(NotShareableError):
                    future.result(WAIT)
            else:
                with self.assertRaises((TypeError, pickle.PicklingError)):
                    self.pool.submit(tasks.double, threading.Lock())
            self.assertEqual(self.pool.submit(tasks.double, 3).result(WAIT), 6)

        def test_single_phase_extension_gives_a_clear_import_error(self):
            with self.assertRaises(ImportError) as caught:
                self.pool.submit(tasks.import_single_phase).result(WAIT)
            self.assertEqual(caught.exception.name, "_testsinglephase")
            self.assertIn("_testsinglephase", str(caught.exception))
            self.assertIn("ProcessPoolExecutor", str(caught.exception))
            self.assertEqual(self.pool.submit(tasks.double, 4).result(WAIT), 8)

        def test_thread_name_prefix_and_defaults(self):
            self.assertTrue(self.pool._thread_name_prefix.startswith("InterpreterPoolExecutor-"))
            with InterpreterPoolExecutor(thread_name_prefix="ip") as pool:
                pool.submit(tasks.double, 1).result(WAIT)
                self.assertEqual({t.name for t in pool._threads}, {"ip_0"})
                # Beyond 3.14: the task's interpreter knows its thread by the worker's name.
                self.assertEqual(pool.submit(tasks.thread_name).result(WAIT), "ip_0")
                self.assertEqual(pool._max_workers, min(32, (os.cpu_count() or 1) + 4))
            with self.assertRaises(ValueError):
                InterpreterPoolExecutor(0)
            with self.assertRaises(TypeError):
                InterpreterPoolExecutor(1, initializer=42)

        def test_tasks_using_threading_leave_no_error_at_shutdown(self):
            # CPython 3.13 printed "Exception ignored in: ... _DeleteDummyThreadOnDel.__del__" as each
            # worker's interpreter ended, once a task there had used threading (logging does).
            code = textwrap.dedent("""\
                import cs_futures
                def name():  # sent by value: its interpreter imports threading in the task
                    import logging, threading
                    logging.getLogger("task").info("in a worker")
                    return threading.current_thread().name
                with cs_futures.InterpreterPoolExecutor(2) as pool:
                    print(all(pool.submit(name).result(60) for _ in range(3)))
                """)
            rc, out, err = run_child(["-c", code], cwd=ROOT)
            self.assertEqual((rc, out.strip()), (0, "True"), err)
            self.assertNotIn("Exception ignored", err)


    class LifecycleTests(unittest.TestCase):
        def test_initializer_runs_in_each_interpreter(self):
            with InterpreterPoolExecutor(1, initializer=tasks.init_state, initargs=("init",)) as pool:
                self.assertEqual(pool.submit(tasks.remember, "task").result(WAIT), ["init", "task"])

        def test_failing_initializer_breaks_the_pool(self):
            with self.assertLogs("concurrent.futures", "CRITICAL") as logs:
                pool = InterpreterPoolExecutor(2, initializer=tasks.init_fail)
                futures = [pool.submit(tasks.double, i) for i in range(4)]
                for future in futures:
                    with self.assertRaises(BrokenInterpreterPool):
                        future.result(WAIT)
            self.assertIn("Exception in initializer:", logs.output[0])
            self.assertIn("initializer failed", logs.output[0])
            with self.assertRaises(BrokenInterpreterPool):
                pool.submit(tasks.double, 1)
            self.assertTrue(pool._broken)
            self.assertIsInstance(futures[0].exception(WAIT), BrokenExecutor)
            pool.shutdown(wait=True)

        def test_submit_after_shutdown_raises(self):
            pool = InterpreterPoolExecutor(1)
            pool.shutdown()
            with self.assertRaises(RuntimeError):
                pool.submit(tasks.double, 1)

        def test_shutdown_cancel_futures(self):
            read_end, write_end = os.pipe()
            self.addCleanup(os.close, read_end)
            self.addCleanup(os.close, write_end)
            pool = InterpreterPoolExecutor(1)
            running = pool.submit(tasks.block_on, read_end)
            queued = [pool.submit(tasks.double, i) for i in range(5)]
            pool.shutdown(wait=False, cancel_futures=True)
            os.write(write_end, b"y")
            pool.shutdown(wait=True)
            self.assertEqual(running.result(WAIT), b"y")
            self.assertTrue(all(f.cancelled() for f in queued))

        def test_futures_mix_with_thread_pool_futures(self):
            with InterpreterPoolExecutor(2) as ipool, ThreadPoolExecutor(2) as tpool:
                futures = ([ipool.submit(tasks.double, i) for i in range(5)]
                           + [tpool.submit(tasks.double, i) for i in range(5)])
                done, not_done = wait(futures, timeout=WAIT, return_when=ALL_COMPLETED)
                self.assertEqual((len(done), len(not_done)), (10, 0))
                self.assertEqual(sorted(f.result() for f in as_completed(futures, timeout=WAIT)),
                                 sorted([2 * i for i in range(5)] * 2))

        def test_asyncio(self):
            async def main(pool):
                loop = asyncio.get_running_loop()
                a = await loop.run_in_executor(pool, tasks.double, 5)
                b = await asyncio.wrap_future(pool.submit(tasks.add, 1, 2))
                return a, b

            with InterpreterPoolExecutor(2) as pool:
                self.assertEqual(asyncio.run(asyncio.wait_for(main(pool), WAIT)), (10, 3))


    SOAK = textwrap.dedent("""
        import json, os
        from cs_futures import InterpreterPoolExecutor
        from tests.python import interp_tasks as tasks
        try:
            import _interpreters as interpreters
        except ImportError:
            import _xxsubinterpreters as interpreters

        def threads():
            return len(os.listdir("/proc/self/task"))

        def rss_kib():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

        # CPython's own cost of an isolated interpreter created and destroyed (3.12 and 3.13 keep
        # part of its allocator's arenas), measured first, as the yardstick for the pools below.
        # Each runs what a pool's bootstrap imports.
        WORK = ("import importlib.util, pickle, marshal, copyreg, io, socket, struct, traceback, "
                "types; pickle.loads(pickle.dumps((1, 'a', [2.0])))")
        run = getattr(interpreters, "exec", None) or interpreters.run_string
        before = rss_kib()
        for _ in range(30):
            interp = interpreters.create()
            run(interp, WORK)
            interpreters.destroy(interp)
        cpython_per_interpreter = (rss_kib() - before) / 30

        with InterpreterPoolExecutor(2) as pool:           # warm-up: code paths, .NET heap
            list(pool.map(tasks.double, range(500)))
        start_threads, start_rss = threads(), rss_kib()
        with InterpreterPoolExecutor(2) as pool:
            total = sum(pool.map(tasks.double, range(10000)))
            ids = {pool.submit(tasks.interpreter_id).result() for _ in range(50)}
        after_tasks = rss_kib()
        for i in range(100):
            pool = InterpreterPoolExecutor(2)
            pool.submit(tasks.double, i).result(timeout=10)
            pool.shutdown(wait=True)
        print(json.dumps(dict(total=total, ids=len(ids), start_threads=start_threads,
                              end_threads=threads(), start_rss=start_rss, after_tasks=after_tasks,
                              end_rss=rss_kib(), cpython_per_interpreter=cpython_per_interpreter)))
    """)


    @unittest.skipUnless(CROSS_INTERPRETER_RULES, "CPython 3.14's rules apply from 3.14")
    class CrossInterpreterRulesTests(unittest.TestCase):
        """What a call may carry into a worker's interpreter on 3.14+: CPython 3.14's rules."""

        def setUp(self):
            self.pool = InterpreterPoolExecutor(max_workers=2)
            self.addCleanup(self.pool.shutdown, wait=True)

        def assertNotShareable(self, future, *objects):
            """The future fails with NotShareableError naming each object of the cause chain."""
            with self.assertRaises(NotShareableError) as caught:
                future.result(WAIT)
            error = caught.exception
            for obj in objects:
                self.assertIs(type(error), NotShareableError)
                self.assertEqual(str(error), f"{obj!r} does not support cross-interpreter data")
                error = error.__cause__
            return caught.exception

        def test_closure_is_not_shareable(self):
            value = 2

            def closure():
                return value

            self.assertNotShareable(self.pool.submit(closure), (closure, (), {}), closure)
            self.assertEqual(self.pool.submit(tasks.double, 3).result(WAIT), 6)  # pool healthy

        def test_local_function_without_state_travels_as_its_code(self):
            def stateless(a, b):
                import sys  # an import, not a global: still without state
                return a * b, sys._getframe().f_globals["__name__"]

            # as CPython 3.14: it runs in the worker's __main__
            self.assertEqual(self.pool.submit(stateless, 6, 7).result(WAIT), (42, "__main__"))

        def test_function_with_defaults_or_globals_must_pickle(self):
            def with_default(a=1):
                return a

            self.assertNotShareable(self.pool.submit(with_default), (with_default, (), {}),
                                    with_default)
            # a module's function that reads its globals pickles by name: it runs in its module
            self.assertEqual(self.pool.submit(tasks.remember, "x").result(WAIT)[-1], "x")

        def test_local_class_its_instances_and_bound_methods_are_not_shareable(self):
            class Local:
                def run(self):
                    return True

            instance = Local()
            self.assertNotShareable(self.pool.submit(Local), (Local, (), {}), Local)
            self.assertNotShareable(self.pool.submit(instance.run), (instance.run, (), {}),
                                    instance.run)
            call = (tasks.double, (instance,), {})
            self.assertNotShareable(self.pool.submit(tasks.double, instance), call, (instance,),
                                    instance)

        def test_call_that_cannot_be_unpickled_is_not_shareable(self):
            future = self.pool.submit(tasks.double, tasks.FailsToUnpickle(0))
            with self.assertRaisesRegex(NotShareableError, "^args not shareable$") as caught:
                future.result(WAIT)
            cause = str(caught.exception.__cause__)
            self.assertTrue(cause.startswith("RuntimeError: gotcha\n"), cause)
            self.assertTrue(cause.endswith("NotShareableError: object could not be unpickled"), cause)

        def test_initializer_that_is_not_shareable_breaks_the_pool(self):
            def closure_initializer():
                return self

            with self.assertLogs("concurrent.futures", "CRITICAL") as logs:
                with InterpreterPoolExecutor(1, initializer=closure_initializer) as pool:
                    future = pool.submit(tasks.double, 1)
                    with self.assertRaises(BrokenInterpreterPool):
                        future.result(WAIT)
            self.assertIn("Exception in initializer:", logs.output[0])
            self.assertIn("NotShareableError", logs.output[0])

    class SoakTests(unittest.TestCase):
        def test_10000_tasks_and_100_pools_keep_threads_and_memory_flat(self):
            rc, out, err = run_child(["-c", SOAK], cwd=ROOT, timeout=300)
            self.assertEqual(rc, 0, err)
            report = json.loads(out.strip().splitlines()[-1])
            self.assertEqual(report["total"], 2 * sum(range(10000)))
            self.assertIn(report["ids"], (1, 2), report)  # an idle worker may take them all
            # Parked .NET threads may stay (a worker's thread outlives it for 10 s): a few, not 100s.
            self.assertLessEqual(report["end_threads"] - report["start_threads"], 4, report)
            # 10,000 tasks on the same two interpreters: flat.
            self.assertLess(report["after_tasks"] - report["start_rss"], 32 * 1024, report)
            # 100 pools, one interpreter each: no more than CPython's own create/destroy costs,
            # plus 512 KiB a pool.
            per_pool = (report["end_rss"] - report["after_tasks"]) / 100
            self.assertLess(per_pool, 1.25 * report["cpython_per_interpreter"] + 512, report)


if __name__ == "__main__":
    unittest.main()
