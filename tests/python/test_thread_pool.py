"""ThreadPoolExecutor on .NET worker threads: CPython's behaviour, real threads, no mocks."""
import asyncio
import contextvars
import logging
import os
import re
import sys
import threading
import time
import traceback
import unittest
import weakref

import cs_futures
from cs_futures import BrokenExecutor, ThreadPoolExecutor, TimeoutError
from cs_futures.thread import BrokenThreadPool

from .support import WAIT

# Raised by a task; the test checks that result() raises this very object.
RAISED = ValueError("raised in a task")


def raise_stored():
    raise RAISED


def current_name():
    return threading.current_thread().name


class Collect(logging.Handler):
    """A logging handler that keeps the formatted records."""

    def __init__(self, fmt):
        super().__init__()
        self.lines = []
        self.setFormatter(logging.Formatter(fmt))

    def emit(self, record):
        self.lines.append(self.format(record))


class ConstructionTests(unittest.TestCase):
    def test_max_workers_must_be_positive(self):
        for value in (0, -1):
            with self.subTest(max_workers=value):
                with self.assertRaisesRegex(ValueError, "^max_workers must be greater than 0$"):
                    ThreadPoolExecutor(value)

    def test_initializer_must_be_callable(self):
        with self.assertRaisesRegex(TypeError, "^initializer must be a callable$"):
            ThreadPoolExecutor(1, initializer=5)

    def test_default_max_workers(self):
        count = getattr(os, "process_cpu_count", os.cpu_count)() or 1
        executor = ThreadPoolExecutor()
        try:
            self.assertEqual(executor._max_workers, min(32, count + 4))
        finally:
            executor.shutdown()
        executor = ThreadPoolExecutor(3)
        try:
            self.assertEqual(executor._max_workers, 3)
        finally:
            executor.shutdown()


class ResultTests(unittest.TestCase):
    def test_args_kwargs_and_results(self):
        with ThreadPoolExecutor(2) as executor:
            self.assertEqual(executor.submit(pow, 2, 10).result(timeout=WAIT), 1024)
            self.assertEqual(executor.submit(dict, a=1, fn=2).result(timeout=WAIT), {"a": 1, "fn": 2})
            self.assertIsNone(executor.submit(lambda: None).result(timeout=WAIT))
            big = list(range(1000))
            self.assertIs(executor.submit(lambda x: x, big).result(timeout=WAIT), big)

    def test_future_is_a_cs_futures_and_stdlib_future(self):
        import concurrent.futures as std
        with ThreadPoolExecutor(1) as executor:
            future = executor.submit(int)
            self.assertIsInstance(future, cs_futures.Future)
            self.assertIsInstance(future, std.Future)
            self.assertEqual(future.result(timeout=WAIT), 0)

    def test_task_exception_is_the_same_object_with_its_traceback(self):
        with ThreadPoolExecutor(2) as executor:
            future = executor.submit(raise_stored)
            try:
                future.result(timeout=WAIT)
            except ValueError as exc:
                caught = exc
            else:
                self.fail("result() did not raise")
        self.assertIs(caught, RAISED)
        frames = [frame.name for frame in traceback.extract_tb(caught.__traceback__)]
        self.assertIn("raise_stored", frames, "the traceback reaches into the task function")
        self.assertIs(future.exception(timeout=0), RAISED)
        self.assertIs(future.exception().__traceback__, caught.__traceback__)

    def test_exception_of_a_successful_task_is_none(self):
        with ThreadPoolExecutor(1) as executor:
            self.assertIsNone(executor.submit(int).exception(timeout=WAIT))

    def test_base_exception_in_task_reaches_result(self):
        class Stop(BaseException):
            pass

        stop = Stop()

        def task():
            raise stop

        with ThreadPoolExecutor(1) as executor:
            future = executor.submit(task)
            with self.assertRaises(Stop) as caught:
                future.result(timeout=WAIT)
            self.assertIs(caught.exception, stop)
            self.assertEqual(executor.submit(int, "5").result(timeout=WAIT), 5, "the worker survived")

    def test_gil_is_released_while_waiting(self):
        go = threading.Event()
        progressed = threading.Event()

        def python_work():
            go.wait(WAIT)
            total = 0
            for i in range(200000):  # pure Python: runs only while the main thread releases the GIL
                total += i
            progressed.set()

        with ThreadPoolExecutor(1) as executor:
            future = executor.submit(progressed.wait, WAIT)
            thread = threading.Thread(target=python_work)
            thread.start()
            go.set()
            self.assertTrue(future.result(timeout=WAIT + 5), "the Python thread made no progress")
            thread.join(WAIT)


class ReleaseTests(unittest.TestCase):
    """The engine holds a call's function and arguments only until the call ran, was refused or was
    dropped with its pool's queue: nothing is kept alive, nothing released twice."""

    def test_a_refused_call_releases_its_arguments(self):
        arg = object()
        before = sys.getrefcount(arg)
        pool = ThreadPoolExecutor(1)
        pool.shutdown()
        for _ in range(100):
            with self.assertRaises(RuntimeError):
                pool.submit(id, arg)
        self.assertEqual(sys.getrefcount(arg), before)

    def test_calls_cancelled_in_the_queue_release_their_arguments(self):
        arg = object()
        before = sys.getrefcount(arg)
        gate = threading.Event()
        pool = ThreadPoolExecutor(1)
        pool.submit(gate.wait, WAIT)
        queued = [pool.submit(id, arg) for _ in range(100)]
        pool.shutdown(wait=False, cancel_futures=True)
        gate.set()
        pool.shutdown(wait=True)
        self.assertTrue(all(f.cancelled() for f in queued))
        # Dropped by the pool: released by the next .NET thread that takes the GIL.
        with ThreadPoolExecutor(1) as other:
            other.submit(int).result(timeout=WAIT)
        self.assertEqual(sys.getrefcount(arg), before)

    def test_a_call_that_ran_releases_its_arguments(self):
        arg = object()
        before = sys.getrefcount(arg)
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(id, arg) for _ in range(100)]:
                future.result(timeout=WAIT)
        self.assertEqual(sys.getrefcount(arg), before)


class ThreadNameTests(unittest.TestCase):
    def test_prefix_names_inside_tasks(self):
        barrier = threading.Barrier(3, timeout=WAIT)

        def task():
            barrier.wait()  # three tasks at once: three distinct threads
            return current_name()

        with ThreadPoolExecutor(3, thread_name_prefix="Special") as executor:
            names = {f.result(timeout=WAIT) for f in [executor.submit(task) for _ in range(3)]}
        self.assertEqual(names, {"Special_0", "Special_1", "Special_2"})

    def test_default_names_inside_tasks(self):
        with ThreadPoolExecutor(1) as first, ThreadPoolExecutor(1) as second:
            a = first.submit(current_name).result(timeout=WAIT)
            b = second.submit(current_name).result(timeout=WAIT)
        self.assertRegex(a, r"^ThreadPoolExecutor-\d+_0$")
        self.assertRegex(b, r"^ThreadPoolExecutor-\d+_0$")
        k_a = int(re.match(r"ThreadPoolExecutor-(\d+)_", a).group(1))
        k_b = int(re.match(r"ThreadPoolExecutor-(\d+)_", b).group(1))
        self.assertGreater(k_b, k_a, "each executor has its own number")

    def test_current_thread_is_not_the_callers(self):
        with ThreadPoolExecutor(1, thread_name_prefix="Other") as executor:
            ident = executor.submit(threading.get_ident).result(timeout=WAIT)
            self.assertNotEqual(ident, threading.get_ident())
            self.assertEqual(executor.submit(lambda: threading.current_thread().ident).result(timeout=WAIT),
                             ident)

    def test_threads_attribute_names(self):
        with ThreadPoolExecutor(1, thread_name_prefix="Listed") as executor:
            executor.submit(int).result(timeout=WAIT)
            self.assertEqual([t.name for t in executor._threads], ["Listed_0"])

    def test_logging_thread_name_is_the_pools(self):
        logger = logging.getLogger("cs_futures.tests.thread_names")
        handler = Collect("%(threadName)s|%(message)s")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="Logged") as executor:
                executor.submit(logger.info, "hello %s", "there").result(timeout=WAIT)
            with ThreadPoolExecutor(1) as executor:
                executor.submit(logger.info, "default").result(timeout=WAIT)
        finally:
            logger.removeHandler(handler)
            logger.propagate = True
        self.assertEqual(handler.lines[0], "Logged_0|hello there")
        self.assertRegex(handler.lines[1], r"^ThreadPoolExecutor-\d+_0\|default$")


class Token:
    """Something a thread-local can hold and a weak reference can watch."""


LOCAL = threading.local()
VAR = contextvars.ContextVar("VAR", default="unset")


def leave_thread_state(token):
    """Puts a token in a thread-local and sets a context variable; returns the thread's ident."""
    LOCAL.token = token
    VAR.set("set by an earlier pool")
    return threading.get_ident()


def read_thread_state():
    return threading.get_ident(), getattr(LOCAL, "token", None), VAR.get(), current_name()


def traced_task():
    return threading.current_thread().name


class HookTests(unittest.TestCase):
    """threading.settrace() and setprofile() reach the workers, as they reach new CPython threads."""

    def test_settrace_and_setprofile_reach_new_workers(self):
        traced, profiled = [], []

        def tracer(frame, event, arg):
            if event == "call" and frame.f_code is traced_task.__code__:
                traced.append(threading.current_thread().name)

        def profiler(frame, event, arg):
            if event == "call" and frame.f_code is traced_task.__code__:
                profiled.append(threading.current_thread().name)

        threading.settrace(tracer)
        threading.setprofile(profiler)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="Traced") as executor:
                self.assertEqual(executor.submit(traced_task).result(timeout=WAIT), "Traced_0")
        finally:
            threading.settrace(None)
            threading.setprofile(None)
        self.assertEqual(traced, ["Traced_0"])
        self.assertEqual(profiled, ["Traced_0"])

        with ThreadPoolExecutor(1) as executor:
            executor.submit(traced_task).result(timeout=WAIT)
        self.assertEqual(len(traced), 1, "a later worker on the same thread is not traced")


def exit_if_threading_is_sane():
    """In a child forked by a task: exit with 0 if threading made the forking thread the only and
    main thread (its _after_fork handler ran through), else 3."""
    import sys
    current = threading.current_thread()
    sys.exit(0 if current is threading.main_thread() and threading.enumerate() == [current] else 3)


class WorkerExitTests(unittest.TestCase):
    """A worker's exit is a thread's exit for Python, although the engine parks its .NET thread and
    gives it to the next pool's worker."""

    def test_thread_locals_die_when_the_pool_shuts_down(self):
        token = Token()
        watcher = weakref.ref(token)
        with ThreadPoolExecutor(1) as executor:
            executor.submit(leave_thread_state, token).result(timeout=WAIT)
            del token
            self.assertIsNotNone(watcher(), "the worker's thread-local holds the token")
        self.assertIsNone(watcher(), "shutdown(wait=True) returned after the worker's thread state died")

    def test_next_pool_starts_with_fresh_thread_state(self):
        with ThreadPoolExecutor(1) as first:
            first.submit(leave_thread_state, Token()).result(timeout=WAIT)
        with ThreadPoolExecutor(1, thread_name_prefix="Next") as second:
            _, token, var, name = second.submit(read_thread_state).result(timeout=WAIT)
        self.assertIsNone(token, "no thread-local of a dead worker")
        self.assertEqual(var, "unset", "a new worker starts with an empty context, as a new CPython thread")
        self.assertEqual(name, "Next_0")

    def test_exited_workers_are_not_listed_by_threading(self):
        with ThreadPoolExecutor(2, thread_name_prefix="Gone") as executor:
            list(executor.map(lambda _: current_name(), range(4)))
            threads = list(executor._threads)
        self.assertTrue(threads)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertFalse([t for t in threading.enumerate() if t.name.startswith("Gone_")])

    @unittest.skipUnless(hasattr(os, "register_at_fork"), "needs os.register_at_fork")
    def test_a_task_can_fork_a_child_that_exits_cleanly(self):
        # CPython's test_process_fork_from_a_threadpool: in the child, threading makes the forking
        # worker its main thread (3.13+: it checks the thread's handle, then marks it done at exit).
        import multiprocessing
        import warnings

        def fork_and_exit_code():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads running
                child = multiprocessing.get_context("fork").Process(target=exit_if_threading_is_sane)
                child.start()
            child.join(WAIT)
            return child.exitcode

        with ThreadPoolExecutor(1) as executor:
            self.assertEqual(executor.submit(fork_and_exit_code).result(timeout=WAIT), 0)


class RecordingContext(cs_futures.thread.WorkerContext):
    """A worker context that records its calls (in *log*) and runs tasks with a prefix."""

    @classmethod
    def prepare(cls, initializer, initargs, log=None, prefix=""):
        def create_context():
            return cls(initializer, initargs, log, prefix)
        def resolve_task(fn, args, kwargs):
            log.append(("resolve", fn.__name__))
            return fn, args, kwargs
        return create_context, resolve_task

    def __init__(self, initializer, initargs, log, prefix):
        super().__init__(initializer, initargs)
        self.log, self.prefix = log, prefix

    def initialize(self):
        self.log.append(("initialize", threading.current_thread().name))
        super().initialize()

    def run(self, task):
        return self.prefix + str(super().run(task))

    def finalize(self):
        self.log.append(("finalize", threading.current_thread().name))


class ContextPool(ThreadPoolExecutor):
    @classmethod
    def prepare_context(cls, initializer, initargs, **ctxkwargs):
        return RecordingContext.prepare(initializer, initargs, **ctxkwargs)


class WorkerContextTests(unittest.TestCase):
    """Python 3.14's prepare_context hook: a subclass's worker contexts."""

    def test_each_worker_runs_its_tasks_in_its_context(self):
        log = []
        with ContextPool(1, thread_name_prefix="Ctx", log=log, prefix="ctx:") as executor:
            self.assertEqual(executor.submit(abs, -3).result(timeout=WAIT), "ctx:3")
            self.assertEqual(list(executor.map(str.upper, ["a", "b"])), ["ctx:A", "ctx:B"])
        self.assertEqual(log, [("resolve", "abs"), ("initialize", "Ctx_0"), ("resolve", "upper"),
                               ("resolve", "upper"), ("finalize", "Ctx_0")])

    def test_failing_context_initialization_breaks_the_pool(self):
        class Failing(RecordingContext):
            def initialize(self):
                raise OSError("no context")

        class FailingPool(ThreadPoolExecutor):
            @classmethod
            def prepare_context(cls, initializer, initargs):
                return Failing.prepare(initializer, initargs, log=[])

        with self.assertLogs("concurrent.futures", "CRITICAL") as logs:
            executor = FailingPool(1)
            future = executor.submit(abs, -1)
            with self.assertRaises(BrokenThreadPool):
                future.result(timeout=WAIT)
            executor.shutdown()
        self.assertIn("Exception in initializer:", logs.output[0])
        self.assertIn("no context", logs.output[0])

    def test_worker_context_is_the_standard_librarys_from_3_14(self):
        if sys.version_info >= (3, 14):
            import concurrent.futures.thread as std_thread
            self.assertIs(cs_futures.thread.WorkerContext, std_thread.WorkerContext)
        with self.assertRaises(TypeError):  # no context arguments without a prepare_context for them
            ThreadPoolExecutor(1, log=[])


class InitializerTests(unittest.TestCase):
    def test_initializer_runs_once_per_thread_with_initargs(self):
        seen = []
        lock = threading.Lock()
        barrier = threading.Barrier(3, timeout=WAIT)

        def init(a, b):
            with lock:
                seen.append((a, b, current_name()))

        def task(i):
            if i < 3:
                barrier.wait()  # the first three tasks run at once, so three threads exist
            return current_name()

        with ThreadPoolExecutor(3, thread_name_prefix="init", initializer=init,
                                initargs=("x", 2)) as executor:
            names = list(executor.map(task, range(30), timeout=WAIT))
        self.assertEqual(sorted(seen), [("x", 2, "init_0"), ("x", 2, "init_1"), ("x", 2, "init_2")])
        self.assertEqual(set(names), {"init_0", "init_1", "init_2"})

    def test_initializer_runs_before_the_first_task_on_its_thread(self):
        order = []
        with ThreadPoolExecutor(1, initializer=order.append, initargs=("init",)) as executor:
            executor.submit(order.append, "task").result(timeout=WAIT)
        self.assertEqual(order, ["init", "task"])

    def test_failing_initializer_breaks_the_pool(self):
        gate = threading.Event()

        def init():
            gate.wait(WAIT)
            raise RuntimeError("init failed")

        executor = ThreadPoolExecutor(1, initializer=init)
        try:
            with self.assertLogs("concurrent.futures", level="CRITICAL") as logs:
                futures = [executor.submit(int) for _ in range(3)]
                gate.set()
                for future in futures:
                    with self.assertRaises(BrokenThreadPool):
                        future.result(timeout=WAIT)
            self.assertEqual(logs.records[0].levelno, logging.CRITICAL)
            self.assertEqual(logs.records[0].getMessage(), "Exception in initializer:")
            self.assertIn("RuntimeError: init failed", logs.output[0], "the traceback is logged")
            self.assertTrue(executor._broken)
            with self.assertRaises(BrokenThreadPool) as caught:
                executor.submit(int)
            self.assertIsInstance(caught.exception, BrokenExecutor)
            self.assertIn("initializer failed", str(caught.exception))
        finally:
            executor.shutdown(wait=True)


class ShutdownTests(unittest.TestCase):
    def test_submit_after_shutdown(self):
        executor = ThreadPoolExecutor(1)
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, "^cannot schedule new futures after shutdown$"):
            executor.submit(int)
        executor.shutdown()  # a second shutdown is harmless

    def test_submit_after_context_exit(self):
        with ThreadPoolExecutor(1) as executor:
            pass
        with self.assertRaisesRegex(RuntimeError, "^cannot schedule new futures after shutdown$"):
            executor.submit(int)

    def test_shutdown_waits_for_running_and_queued_work(self):
        started = threading.Event()
        gate = threading.Event()
        executor = ThreadPoolExecutor(1)
        first = executor.submit(lambda: (started.set(), gate.wait(WAIT))[1])
        rest = [executor.submit(pow, 2, i) for i in range(5)]
        self.assertTrue(started.wait(WAIT))
        executor.shutdown(wait=False)
        self.assertFalse(first.done())
        gate.set()
        executor.shutdown(wait=True)
        self.assertTrue(first.done())
        self.assertEqual([f.result(timeout=0) for f in rest], [1, 2, 4, 8, 16])

    def test_shutdown_cancel_futures(self):
        started = threading.Event()
        gate = threading.Event()
        executor = ThreadPoolExecutor(1)
        first = executor.submit(lambda: (started.set(), gate.wait(WAIT))[1])
        self.assertTrue(started.wait(WAIT))
        rest = [executor.submit(int) for _ in range(10)]
        executor.shutdown(wait=False, cancel_futures=True)
        self.assertTrue(all(f.cancelled() for f in rest), [f._state for f in rest])
        self.assertFalse(first.cancelled(), "a running future is not cancelled")
        gate.set()
        executor.shutdown(wait=True)
        self.assertTrue(first.result(timeout=0))
        with self.assertRaises(cs_futures.CancelledError):
            rest[0].result(timeout=0)


class SubmitBacklogTests(unittest.TestCase):
    """Python submits past the pool's backlog wait for the workers with the GIL released (so that
    other threads get the GIL), but never deadlock where CPython's unbounded queue would not."""

    def test_submitter_holding_what_the_tasks_need_does_not_deadlock(self):
        lock = threading.Lock()
        futures = []

        def needs_the_lock(i):
            with lock:
                return i

        def submit_all(ex):
            futures.extend(ex.submit(needs_the_lock, i) for i in range(2000))

        with ThreadPoolExecutor(2) as ex:
            with lock:  # no task can finish until every submit returned
                submitter = threading.Thread(target=submit_all, args=(ex,))
                submitter.start()
                submitter.join(WAIT)
                self.assertFalse(submitter.is_alive(), "the submits waited for tasks that wait for them")
            self.assertEqual([f.result(WAIT) for f in futures], list(range(2000)))

    def test_tasks_submitting_to_their_own_pool_past_the_backlog(self):
        with ThreadPoolExecutor(1) as ex:
            inner = ex.submit(lambda: [ex.submit(abs, -i) for i in range(1000)]).result(WAIT)
            self.assertEqual([f.result(WAIT) for f in inner], list(range(1000)))

    def test_many_submitting_threads_lose_nothing(self):
        with ThreadPoolExecutor(4) as ex:
            results = [[] for _ in range(8)]

            def submit_many(out, base):
                out.extend(ex.submit(abs, -(base + i)) for i in range(3000))

            threads = [threading.Thread(target=submit_many, args=(results[k], k * 3000)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(WAIT)
            got = sorted(f.result(WAIT) for out in results for f in out)
        self.assertEqual(got, list(range(24000)))


class MapTests(unittest.TestCase):
    def test_order_is_the_input_order(self):
        events = [threading.Event() for _ in range(4)]

        def task(i):
            # Each task waits for the next one to start its wait: they finish in reverse order.
            if i < 3:
                events[i + 1].wait(WAIT)
            events[i].set()
            return i * 10

        with ThreadPoolExecutor(4) as executor:
            self.assertEqual(list(executor.map(task, range(4), timeout=WAIT)), [0, 10, 20, 30])
            self.assertEqual(list(executor.map(abs, range(-50, 50))), [abs(i) for i in range(-50, 50)])
            self.assertEqual(list(executor.map(pow, [2, 3, 4], [3, 2])), [8, 9], "shortest iterable")

    def test_a_subclass_that_overrides_submit_sees_every_call_of_map(self):
        # map submits through self.submit, as CPython's does (the pool's own submits are faster, and
        # taken only when submit is the pool's).
        class Counting(ThreadPoolExecutor):
            calls = 0

            def submit(self, fn, /, *args, **kwargs):
                Counting.calls += 1
                return super().submit(fn, *args, **kwargs)

        with Counting(2) as executor:
            self.assertEqual(list(executor.map(pow, [2, 3, 4], [2, 2, 2])), [4, 9, 16])
        self.assertEqual(Counting.calls, 3)

    def test_map_after_shutdown_raises_as_submit(self):
        executor = ThreadPoolExecutor(1)
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, "cannot schedule new futures after shutdown"):
            executor.map(abs, [1])

    def test_exception_is_raised_at_its_position(self):
        with ThreadPoolExecutor(2) as executor:
            results = executor.map(lambda x: 10 // x, [1, 0, 5])
            self.assertEqual(next(results), 10)
            with self.assertRaises(ZeroDivisionError):
                next(results)

    def test_timeout_raises_and_cancels_the_rest(self):
        gate = threading.Event()
        ran = []
        with ThreadPoolExecutor(1) as executor:
            blocker = executor.submit(gate.wait, WAIT)
            results = executor.map(ran.append, range(5), timeout=0.1)
            with self.assertRaises(TimeoutError):
                next(results)
            gate.set()
        self.assertTrue(blocker.result(timeout=0))
        self.assertEqual(ran, [], "the calls not started were cancelled")

    def test_early_close_cancels_remaining(self):
        gate = threading.Event()
        ran = []

        def task(x):
            if x == 0:
                return 0
            gate.wait(WAIT)
            ran.append(x)
            return x

        with ThreadPoolExecutor(1) as executor:
            results = executor.map(task, range(6))
            self.assertEqual(next(results), 0)
            results.close()
            gate.set()
        # Item 1 may have been running when close() came; nothing after it ran.
        self.assertLessEqual(set(ran), {1})

    def test_buffersize_bounds_the_work_in_flight(self):
        produced = []
        running = []
        peak = [0]
        lock = threading.Lock()

        def source():
            for i in range(20):
                produced.append(i)
                yield i

        def task(i):
            with lock:
                running.append(i)
                peak[0] = max(peak[0], len(running))
            with lock:
                running.remove(i)
            return i * 2

        with ThreadPoolExecutor(8) as executor:
            results = executor.map(task, source(), buffersize=3)
            self.assertEqual(len(produced), 3, "only buffersize calls submitted before iterating")
            for taken, value in enumerate(results, 1):
                self.assertEqual(value, (taken - 1) * 2)
                self.assertLessEqual(len(produced) - taken, 3)
        self.assertEqual(len(produced), 20)
        self.assertLessEqual(peak[0], 3)

    def test_buffersize_validation(self):
        with ThreadPoolExecutor(1) as executor:
            with self.assertRaisesRegex(ValueError, "buffersize must be None or > 0"):
                executor.map(int, [], buffersize=0)
            with self.assertRaisesRegex(TypeError, "buffersize must be an integer or None"):
                executor.map(int, [], buffersize=1.5)


class AsyncioTests(unittest.TestCase):
    def test_run_in_executor_and_wrap_future(self):
        async def main(executor):
            loop = asyncio.get_running_loop()
            a = await loop.run_in_executor(executor, pow, 2, 5)
            b = await asyncio.wrap_future(executor.submit(pow, 3, 2))
            names = await loop.run_in_executor(executor, current_name)
            with self.assertRaises(ZeroDivisionError):
                await asyncio.wrap_future(executor.submit(divmod, 1, 0))
            return a, b, names

        with ThreadPoolExecutor(2, thread_name_prefix="aio") as executor:
            a, b, name = asyncio.run(asyncio.wait_for(main(executor), WAIT))
        self.assertEqual((a, b), (32, 9))
        self.assertRegex(name, r"^aio_\d$")

    def test_default_executor_of_a_loop(self):
        async def main():
            loop = asyncio.get_running_loop()
            executor = ThreadPoolExecutor(1, thread_name_prefix="default-exec")
            loop.set_default_executor(executor)
            return await loop.run_in_executor(None, current_name)

        self.assertEqual(asyncio.run(asyncio.wait_for(main(), WAIT)), "default-exec_0")


class DotnetCallableTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cs_futures.enable_clr()

    def test_dotnet_delegate_runs_on_the_pool(self):
        import System
        sqrt = System.Func[float, float](System.Math.Sqrt)
        with ThreadPoolExecutor(2) as executor:
            self.assertEqual(executor.submit(sqrt, 16.0).result(timeout=WAIT), 4.0)

    def test_dotnet_delegate_after_a_long_python_task_runs_without_the_gil(self):
        # A worker keeps the GIL from a long Python task to its next Python task; it must give it back
        # before .NET code runs, or this thread, which sets what the delegate waits for, would wait
        # for the delegate's timeout instead.
        import System
        from System.Threading import ManualResetEventSlim
        gate = ManualResetEventSlim(False)
        # A delegate bound in .NET (one made from a Python callable would run Python, not .NET).
        wait = System.Delegate.CreateDelegate(System.Func[System.TimeSpan, bool], gate, "Wait")
        with ThreadPoolExecutor(1) as executor:
            long_task = executor.submit(time.sleep, 0.005)
            waiting = executor.submit(wait, System.TimeSpan.FromSeconds(10))
            long_task.result(timeout=WAIT)
            gate.Set()
            self.assertTrue(waiting.result(timeout=WAIT), "the delegate ran while its worker held the GIL")

    def test_dotnet_exception_is_raised_from_result(self):
        import System
        parse = System.Func[str, int](System.Int32.Parse)
        with ThreadPoolExecutor(2) as executor:
            self.assertEqual(executor.submit(parse, "12").result(timeout=WAIT), 12)
            future = executor.submit(parse, "x")
            with self.assertRaises(System.FormatException):
                future.result(timeout=WAIT)
            self.assertIsInstance(future.exception(timeout=0), System.FormatException)


if __name__ == "__main__":
    unittest.main()
