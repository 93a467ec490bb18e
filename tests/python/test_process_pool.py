"""ProcessPoolExecutor on worker processes managed by the .NET engine: CPython's behaviour, real
processes, no mocks. Task functions live in proc_tasks (importable by name in the workers); scripts
run as child programs live in scripts/proc_*.py."""
import asyncio
import concurrent.futures as std
import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
import types
import unittest

import cs_futures
from cs_futures import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, BrokenExecutor,
                        ProcessPoolExecutor, ThreadPoolExecutor)
from cs_futures.process import BrokenProcessPool

from . import proc_tasks as tasks
from .support import WAIT, child_env, run_child

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
# A dead worker is noticed at once (the end of its connection): a generous bound, not a delay.
DEATH_WAIT = 5
SPAWN = multiprocessing.get_context("spawn")


def cloudpickle_in_use():
    from _cs_futures_worker import _serialize
    return _serialize._cloudpickle is not None


@contextlib.contextmanager
def stderr_fd_captured():
    """Point file descriptor 2 at a temporary file (workers started meanwhile inherit it); the
    yielded list receives the text once the block ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    text = []
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


class PoolTestCase(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self._releases = []

    def pool(self, *args, **kwargs):
        """A ProcessPoolExecutor that is shut down (and its workers killed if need be) after the test."""
        executor = ProcessPoolExecutor(*args, **kwargs)
        self.addCleanup(self.dispose, executor)
        return executor

    def dispose(self, executor):
        for release in self._releases:  # let blocked tasks finish
            for _ in range(executor._max_workers):
                release.release()
        executor.shutdown(wait=False, cancel_futures=True)
        manager = executor._executor_manager_thread
        if manager is not None:
            manager.join(DEATH_WAIT)
            if manager.is_alive():
                executor.kill_workers()
                manager.join(WAIT)

    def gates(self):
        """(started, release) for tasks.block / tasks.signal_and_sleep: spawn-context semaphores
        (not Events: a worker killed inside Event.wait() leaves its Condition waiting for it, and
        a later set() would hang). The parent acquires *started* and releases *release*."""
        started, release = SPAWN.Semaphore(0), SPAWN.Semaphore(0)
        self._releases.append(release)
        return started, release

    def assertStarted(self, started):
        self.assertTrue(started.acquire(timeout=WAIT), "the task did not start")

    def assertBroken(self, future, timeout=DEATH_WAIT):
        try:
            error = future.exception(timeout=timeout)
        except TimeoutError:
            self.fail("the future did not complete within %s s: %r" % (timeout, future))
        self.assertIsInstance(error, BrokenProcessPool)
        return error


class ConstructionTests(unittest.TestCase):
    def test_max_workers_must_be_positive(self):
        for value in (0, -1):
            with self.subTest(max_workers=value):
                with self.assertRaisesRegex(ValueError, "^max_workers must be greater than 0$"):
                    ProcessPoolExecutor(value)

    def test_initializer_must_be_callable(self):
        with self.assertRaisesRegex(TypeError, "^initializer must be a callable$"):
            ProcessPoolExecutor(1, initializer=5)

    def test_max_tasks_per_child_checks(self):
        with self.assertRaises(TypeError):
            ProcessPoolExecutor(1, max_tasks_per_child="x")
        with self.assertRaises(ValueError):
            ProcessPoolExecutor(1, max_tasks_per_child=0)
        with self.assertRaisesRegex(ValueError, "fork"):
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                max_tasks_per_child=3)

    def test_max_tasks_per_child_defaults_to_spawn(self):
        executor = ProcessPoolExecutor(1, max_tasks_per_child=3)
        self.assertEqual(executor._mp_context.get_start_method(), "spawn")
        self.assertEqual(executor._max_tasks_per_child, 3)
        executor.shutdown()
        forkserver = multiprocessing.get_context("forkserver")
        executor = ProcessPoolExecutor(1, mp_context=forkserver, max_tasks_per_child=3)
        self.assertIs(executor._mp_context, forkserver)
        executor.shutdown()

    def test_default_max_workers(self):
        expected = getattr(os, "process_cpu_count", os.cpu_count)() or os.cpu_count()
        executor = ProcessPoolExecutor()
        self.assertEqual(executor._max_workers, expected)
        executor.shutdown()
        executor = ProcessPoolExecutor(2)
        self.assertEqual(executor._max_workers, 2)
        executor.shutdown()

    def test_no_process_before_the_first_submit(self):
        executor = ProcessPoolExecutor(1)
        self.assertEqual(executor._processes, {})
        self.assertFalse(executor._broken)
        executor.shutdown()

    def test_chunksize_must_be_positive(self):
        executor = ProcessPoolExecutor(1)
        try:
            for value in (0, -1):
                with self.subTest(chunksize=value):
                    with self.assertRaisesRegex(ValueError, r"^chunksize must be >= 1\.$"):
                        executor.map(tasks.square, [1], chunksize=value)
        finally:
            executor.shutdown()

    def test_broken_process_pool_is_the_standard_class(self):
        self.assertIs(BrokenProcessPool, std.process.BrokenProcessPool)
        self.assertTrue(issubclass(BrokenProcessPool, std.BrokenExecutor))
        self.assertIs(BrokenExecutor, std.BrokenExecutor)
        self.assertIs(cs_futures.TimeoutError, TimeoutError)
        self.assertIs(std.TimeoutError, TimeoutError)


class ResultTests(PoolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = ProcessPoolExecutor(2)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True)

    def test_worker_never_loads_dotnet(self):
        # Workers import only the pure-Python worker modules; .NET (and its signal handlers) stay
        # out, so that a segfault in a task kills the worker as it would a CPython worker.
        modules, default_sigsegv = self.executor.submit(
            tasks.dotnet_modules_and_sigsegv_handler).result(timeout=WAIT)
        self.assertEqual(modules, ["_cs_futures_worker", "_cs_futures_worker.__main__",
                                   "_cs_futures_worker._serialize", "_cs_futures_worker._worker"])
        self.assertTrue(default_sigsegv)

    def test_submit_round_trip(self):
        submit = self.executor.submit
        self.assertEqual(submit(tasks.add, 1, 2).result(timeout=WAIT), 3)
        self.assertEqual(submit(tasks.add, a="x", b="y").result(timeout=WAIT), "xy")
        self.assertEqual(submit(pow, 2, 10).result(timeout=WAIT), 1024)
        self.assertIsNone(submit(tasks.identity, None).result(timeout=WAIT))
        big = {"numbers": list(range(100_000)), "text": "é" * 10_000, "bytes": bytes(range(256)) * 1000}
        self.assertEqual(submit(tasks.identity, big).result(timeout=WAIT), big)
        self.assertNotEqual(submit(tasks.pid).result(timeout=WAIT), os.getpid())

    def test_future_is_a_cs_futures_and_stdlib_future(self):
        future = self.executor.submit(tasks.square, 7)
        self.assertIsInstance(future, cs_futures.Future)
        self.assertIsInstance(future, std.Future)
        self.assertEqual(future.result(timeout=WAIT), 49)
        self.assertTrue(future.done())
        self.assertIsNone(future.exception(timeout=0))

    def test_map_in_order_for_each_chunksize(self):
        xs, ys = list(range(10)), list(range(100, 110))
        for chunksize in (1, 3, 100):
            with self.subTest(chunksize=chunksize):
                self.assertEqual(list(self.executor.map(tasks.square, xs, chunksize=chunksize)),
                                 [x * x for x in xs])
                self.assertEqual(list(self.executor.map(tasks.add, xs, ys, chunksize=chunksize)),
                                 [x + y for x, y in zip(xs, ys)])
                self.assertEqual(list(self.executor.map(tasks.square, [], chunksize=chunksize)), [])

    def test_map_reraises_the_task_exception_in_order(self):
        results = self.executor.map(tasks.identity, [1, 2])
        self.assertEqual(list(results), [1, 2])
        results = self.executor.map(tasks.add, [1, "a", 3], [1, 2, 3], chunksize=1)
        self.assertEqual(next(results), 2)
        with self.assertRaises(TypeError):
            next(results)

    def test_remote_exception_type_args_and_traceback(self):
        future = self.executor.submit(tasks.raise_value_error, "bad value", 42)
        with self.assertRaises(ValueError) as caught:
            future.result(timeout=WAIT)
        error = caught.exception
        self.assertEqual(error.args, ("bad value", 42))
        self.assertIs(type(error.__cause__), std.process._RemoteTraceback)
        self.assertIn("raise ValueError(*args)  # REMOTE-LINE-MARKER", error.__cause__.tb)
        self.assertIn("raise_value_error", error.__cause__.tb)
        self.assertIn(tasks.__file__, error.__cause__.tb)
        self.assertIs(future.exception(timeout=0), error)

    def test_remote_exception_of_an_importable_class(self):
        future = self.executor.submit(tasks.raise_task_error, "one", 2)
        error = future.exception(timeout=WAIT)
        self.assertIs(type(error), tasks.TaskError)
        self.assertEqual(error.args, ("one", 2))
        self.assertIsInstance(error.__cause__, std.process._RemoteTraceback)
        self.assertEqual(self.executor.submit(tasks.add, 2, 3).result(timeout=WAIT), 5,
                         "the pool works after a task raised")

    def test_unpicklable_argument_fails_only_its_future(self):
        lock = threading.Lock()
        future = self.executor.submit(tasks.identity, lock)
        error = future.exception(timeout=WAIT)
        self.assertIsInstance(error, TypeError)
        self.assertIn("lock", str(error))
        holds_lock = lambda: lock  # noqa: E731 - a local lambda over an unpicklable object
        error = self.executor.submit(holds_lock).exception(timeout=WAIT)
        self.assertIsInstance(error, (TypeError, pickle.PicklingError, AttributeError))
        self.assertEqual(self.executor.submit(tasks.add, 1, 1).result(timeout=WAIT), 2)
        self.assertFalse(self.executor._broken)

    def test_unpicklable_calls_start_workers_at_submit_as_cpython(self):
        # CPython's submit starts a worker before the call is pickled (its test_saturation):
        # calls that cannot be pickled grow the pool as other calls do.
        executor = self.pool(3)
        lock = threading.Lock()
        futures = [executor.submit(tasks.identity, lock) for _ in range(9)]
        self.assertEqual(len(executor._processes), 3)
        for future in futures:
            self.assertIsInstance(future.exception(timeout=WAIT), TypeError)
        self.assertEqual(executor.submit(tasks.add, 2, 2).result(timeout=WAIT), 4)

    def test_local_lambda(self):
        local = lambda x: x + 1  # noqa: E731 - defined in the test method: not importable by name
        future = self.executor.submit(local, 1)
        if cloudpickle_in_use():
            # cloudpickle (present for 3.11 on this machine) sends functions by value.
            self.assertEqual(future.result(timeout=WAIT), 2)
        else:
            error = future.exception(timeout=WAIT)
            self.assertIsInstance(error, (pickle.PicklingError, AttributeError, TypeError))
        self.assertEqual(self.executor.submit(tasks.add, 1, 1).result(timeout=WAIT), 2)

    def test_unpicklable_result_fails_only_its_future(self):
        executor = self.pool(1)
        worker = executor.submit(tasks.pid).result(timeout=WAIT)
        error = executor.submit(tasks.return_lock).exception(timeout=WAIT)
        self.assertIsInstance(error, TypeError)
        self.assertIn("lock", str(error))
        self.assertIsInstance(error.__cause__, std.process._RemoteTraceback)
        self.assertEqual(executor.submit(tasks.pid).result(timeout=WAIT), worker, "the worker survived")
        self.assertFalse(executor._broken)

    def test_system_exit_in_a_task_is_its_exception(self):
        executor = self.pool(1)
        worker = executor.submit(tasks.pid).result(timeout=WAIT)
        error = executor.submit(sys.exit, 5).exception(timeout=WAIT)
        self.assertIsInstance(error, SystemExit)
        self.assertEqual(error.code, 5)
        self.assertEqual(executor.submit(tasks.pid).result(timeout=WAIT), worker, "the worker survived")

    def test_exception_the_parent_cannot_unpickle_fails_only_its_future(self):
        # Differs from CPython on purpose (docs/differences.md): CPython breaks the whole pool.
        executor = self.pool(1)
        error = self.assertBroken(executor.submit(tasks.raise_needs_two_args), WAIT)
        self.assertIn("NeedsTwoArgs", error.__cause__.tb)
        self.assertFalse(executor._broken)
        self.assertEqual(executor.submit(tasks.add, 1, 2).result(timeout=WAIT), 3)

    def test_call_the_worker_cannot_unpickle_fails_only_its_future(self):
        # A function of a module the worker cannot import. Differs from CPython on purpose (docs/differences.md).
        module = types.ModuleType("proc_phantom_module")
        exec("def answer():\n    return 42\n", module.__dict__)
        sys.modules[module.__name__] = module
        self.addCleanup(sys.modules.pop, module.__name__)
        self.assertEqual(pickle.loads(pickle.dumps(module.answer))(), 42, "it pickles in the parent")
        executor = self.pool(1)
        error = self.assertBroken(executor.submit(module.answer), WAIT)
        self.assertIsInstance(error.__cause__, ImportError)
        self.assertFalse(executor._broken)
        self.assertEqual(executor.submit(tasks.add, 1, 2).result(timeout=WAIT), 3)

    def test_cancel_a_pending_future(self):
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release))
        running = executor.submit(tasks.block, "first")
        self.assertStarted(started)
        # CPython may already have moved the next call to its call queue (max_workers + 1 calls):
        # the third one is pending in every implementation.
        queued = [executor.submit(tasks.add, i, 0) for i in range(3)]
        self.assertFalse(running.cancel(), "a running future cannot be cancelled")
        self.assertTrue(queued[2].cancel())
        self.assertTrue(queued[2].cancelled())
        release.release()
        self.assertEqual(running.result(timeout=WAIT), "first")
        self.assertEqual([f.result(timeout=WAIT) for f in queued[:2]], [0, 1])
        with self.assertRaises(std.CancelledError):
            queued[2].result(timeout=0)

    def test_worker_sees_the_parent_argv_and_environment(self):
        name = "CS_FUTURES_PROC_TEST"
        os.environ[name] = "from the parent"
        self.addCleanup(os.environ.pop, name, None)
        executor = self.pool(1)
        argv, value = executor.submit(tasks.argv_and_env, name).result(timeout=WAIT)
        self.assertEqual(argv, sys.argv)
        self.assertEqual(value, "from the parent")

    def test_multiprocessing_objects_as_task_arguments(self):
        # Beyond CPython (which accepts them only in initargs), documented in docs/python.md (Process pools).
        queue = SPAWN.Queue()
        self.addCleanup(queue.close)
        lock = SPAWN.Lock()
        executor = self.pool(1)
        self.assertEqual(executor.submit(tasks.put_into, queue, "via argument").result(timeout=WAIT),
                         "via argument")
        self.assertEqual(queue.get(timeout=WAIT), "via argument")
        with lock:
            self.assertFalse(executor.submit(tasks.try_lock, 0.1, lock).result(timeout=WAIT))
        self.assertTrue(executor.submit(tasks.try_lock, WAIT, lock).result(timeout=WAIT))


class MapTimeoutTests(PoolTestCase):
    def test_map_timeout(self):
        executor = self.pool(1)
        executor.submit(tasks.pid).result(timeout=WAIT)  # the worker has started
        results = executor.map(tasks.sleep_then, [0, 30], ["fast", "slow"], timeout=1)
        self.assertEqual(next(results), "fast")
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            next(results)
        self.assertLess(time.monotonic() - start, DEATH_WAIT)
        executor.kill_workers()  # the 30 s task


class WorkerDeathTests(PoolTestCase):
    def test_os_exit_fails_pending_futures_and_breaks_the_pool(self):
        executor = self.pool(1)
        running = executor.submit(tasks.exit_now, 3)
        pending = [executor.submit(tasks.add, i, i) for i in range(3)]
        for future in pending:
            error = self.assertBroken(future)
            self.assertEqual(error.exitcode, 3)
        self.assertTrue(executor._broken)
        with self.assertRaises(BrokenProcessPool):
            executor.submit(tasks.add, 1, 2)
        del running

    def test_os_exit_fails_the_running_future(self):
        executor = self.pool(1)
        future = executor.submit(tasks.exit_now, 3)
        error = self.assertBroken(future)
        self.assertEqual(error.exitcode, 3)
        self.assertIsInstance(error, BrokenExecutor)
        # CPython 3.15's cause (gh-139462): which process ended, with its exit code.
        self.assertIsInstance(error.__cause__, std.process._RemoteTraceback)
        self.assertIn("terminated abruptly with exit code 3", error.__cause__.tb)

    def test_sigkilled_worker_breaks_the_pool(self):
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release))
        running = executor.submit(tasks.signal_and_sleep, 30)
        pending = executor.submit(tasks.add, 1, 1)
        self.assertStarted(started)
        (pid,) = executor._processes
        executor._processes[pid].kill()
        self.assertBroken(pending)
        self.assertTrue(executor._broken)
        with self.assertRaises(BrokenProcessPool):
            executor.submit(tasks.add, 1, 2)
        self.assertBroken(running)

    def test_killed_worker_exitcode_is_minus_the_signal(self):
        # multiprocessing.Process.exitcode: -N when the process was killed by signal N.
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release),
                             isolate_crashes=True)
        future = executor.submit(tasks.signal_and_sleep, 30)
        self.assertStarted(started)
        (worker,) = executor._processes.values()
        self.assertTrue(worker.is_alive())
        self.assertIsNone(worker.exitcode)
        worker.kill()
        worker.join(WAIT)
        self.assertFalse(worker.is_alive())
        self.assertBroken(future)
        self.assertEqual(worker.exitcode, -signal.SIGKILL)


class InitializerTests(PoolTestCase):
    def test_failing_initializer_breaks_the_pool(self):
        with stderr_fd_captured() as stderr:
            executor = self.pool(1, initializer=tasks.init_fail)
            futures = [executor.submit(tasks.add, 1, 2) for _ in range(2)]
            for future in futures:
                error = self.assertBroken(future)
                self.assertIsInstance(error, BrokenExecutor)
        self.assertTrue(executor._broken)
        with self.assertRaises(BrokenProcessPool):
            executor.submit(tasks.add, 1, 2)
        self.assertIn("Exception in initializer", stderr[0])
        self.assertIn("initializer failed on purpose", stderr[0])

    def test_initializer_sets_a_global_seen_by_tasks(self):
        executor = self.pool(2, initializer=tasks.init_set_global, initargs=("configured",))
        results = [executor.submit(tasks.get_global) for _ in range(4)]
        self.assertEqual([f.result(timeout=WAIT) for f in results], ["configured"] * 4)
        self.assertIsNone(tasks.get_global(), "the parent's module is untouched")

    def test_initargs_with_a_spawn_lock(self):
        lock = SPAWN.Lock()
        executor = self.pool(1, initializer=tasks.init_lock, initargs=(lock,))
        with lock:
            self.assertFalse(executor.submit(tasks.try_lock, 0.2).result(timeout=WAIT),
                             "the worker sees the lock held by the parent")
        self.assertTrue(executor.submit(tasks.try_lock, WAIT).result(timeout=WAIT))

    def test_initargs_with_spawn_events(self):
        started, release = SPAWN.Event(), SPAWN.Event()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release))
        future = executor.submit(tasks.block, "released", WAIT)
        self.assertTrue(started.wait(WAIT), "the task did not start")
        self.assertFalse(future.done())
        release.set()
        self.assertEqual(future.result(timeout=WAIT), "released")

    def test_initargs_with_a_spawn_queue(self):
        queue = SPAWN.Queue()
        self.addCleanup(queue.close)
        with stderr_fd_captured() as stderr:
            executor = self.pool(1, initializer=tasks.init_queue, initargs=(queue,))
            worker = executor.submit(tasks.pid).result(timeout=WAIT)
            self.assertEqual(executor.submit(tasks.put_in_queue, "hello").result(timeout=WAIT), "hello")
            try:
                received = [queue.get(timeout=DEATH_WAIT) for _ in range(2)]
            except Exception as exc:
                received = exc
            executor.shutdown()
        self.assertEqual(received, [("init", worker), ("hello", worker)],
                         "worker stderr:\n" + stderr[0])


class LifecycleTests(PoolTestCase):
    def test_max_tasks_per_child_replaces_the_worker(self):
        executor = self.pool(1, max_tasks_per_child=2)
        first = executor.submit(tasks.pid).result(timeout=WAIT)
        self.assertEqual(list(executor._processes), [first])
        self.assertEqual(executor.submit(tasks.pid).result(timeout=WAIT), first)
        third = executor.submit(tasks.pid).result(timeout=WAIT)
        self.assertNotEqual(third, first)
        self.assertEqual(len(executor._processes), 1)
        self.assertEqual(list(executor._processes), [third])
        self.assertEqual(executor.submit(tasks.pid).result(timeout=WAIT), third)
        fifth = executor.submit(tasks.pid).result(timeout=WAIT)
        self.assertNotIn(fifth, (first, third))
        self.assertEqual(len(executor._processes), 1)

    def test_idle_worker_is_reused(self):
        executor = self.pool(2, mp_context=SPAWN)
        pids = {executor.submit(tasks.pid).result(timeout=WAIT) for _ in range(3)}
        self.assertEqual(len(pids), 1)
        self.assertEqual(set(executor._processes), pids)

    def test_fork_context_starts_every_worker_at_the_first_submit(self):
        # As CPython: with 'fork', all workers start at once (none can be started later).
        executor = self.pool(2, mp_context=multiprocessing.get_context("fork"))
        executor.submit(tasks.pid).result(timeout=WAIT)
        self.assertEqual(len(executor._processes), 2)

    def test_shutdown_wait_completes_submitted_work(self):
        executor = self.pool(2)
        futures = [executor.submit(tasks.sleep_then, 0.05, i) for i in range(6)]
        executor.shutdown(wait=True)
        self.assertTrue(all(f.done() for f in futures))
        self.assertEqual([f.result(timeout=0) for f in futures], list(range(6)))
        self.assertFalse(executor._executor_manager_thread.is_alive(), "the workers exited")

    def test_shutdown_cancel_futures(self):
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release))
        running = executor.submit(tasks.block, "ran")
        queued = [executor.submit(tasks.add, i, i) for i in range(4)]
        self.assertStarted(started)
        executor.shutdown(wait=False, cancel_futures=True)
        self.assertTrue(all(f.cancelled() for f in queued), queued)
        release.release()
        executor.shutdown(wait=True)
        self.assertEqual(running.result(timeout=0), "ran")
        self.assertTrue(all(f.cancelled() for f in queued), queued)

    def test_submit_after_shutdown(self):
        executor = self.pool(1)
        executor.submit(tasks.add, 1, 1).result(timeout=WAIT)
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, "^cannot schedule new futures after shutdown$"):
            executor.submit(tasks.add, 1, 1)
        executor.shutdown()  # again: nothing happens
        unused = self.pool(1)
        unused.shutdown()
        with self.assertRaisesRegex(RuntimeError, "^cannot schedule new futures after shutdown$"):
            unused.submit(tasks.add, 1, 1)

    def test_with_block(self):
        with self.pool(1) as executor:
            future = executor.submit(tasks.sleep_then, 0.05, "done")
        self.assertTrue(future.done())
        self.assertEqual(future.result(timeout=0), "done")
        with self.assertRaises(RuntimeError):
            executor.submit(tasks.add, 1, 1)

    def _force_shutdown(self, method, signum):
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release))
        running = executor.submit(tasks.block)
        pending = [executor.submit(tasks.add, i, i) for i in range(3)]
        self.assertStarted(started)
        (worker,) = executor._processes.values()
        getattr(executor, method)()
        worker.join(WAIT)
        self.assertEqual(worker.exitcode, -signum)  # the signal of the method, sent to the worker
        for future in pending:
            self.assertTrue(future.cancelled(), future)
        with self.assertRaises(RuntimeError):  # shut down (or broken: BrokenProcessPool is one)
            executor.submit(tasks.add, 1, 1)
        self.assertBroken(running)
        executor._executor_manager_thread.join(WAIT)
        self.assertFalse(executor._executor_manager_thread.is_alive(), "the workers exited")

    def test_terminate_workers(self):
        self._force_shutdown("terminate_workers", signal.SIGTERM)

    def test_kill_workers(self):
        self._force_shutdown("kill_workers", signal.SIGKILL)

    def test_force_shutdown_refuses_an_unknown_operation(self):
        # CPython 3.14's _force_shutdown(operation), which terminate_workers and kill_workers call.
        executor = self.pool(1)
        with self.assertRaisesRegex(ValueError, r"^Unsupported operation: 'bogus'$"):
            executor._force_shutdown(operation="bogus")
        self.assertEqual(executor.submit(tasks.add, 1, 2).result(timeout=WAIT), 3)

    def test_force_shutdown_of_a_pool_that_never_started(self):
        for method in ("terminate_workers", "kill_workers"):
            with self.subTest(method=method):
                executor = self.pool(1)
                getattr(executor, method)()
                with self.assertRaises(RuntimeError):
                    executor.submit(tasks.add, 1, 1)

    def _max_tasks_pool(self, executor_kwargs=None):
        """A one-worker pool with max_tasks_per_child=1 whose worker is inside the first of three
        tasks (released by the returned semaphore)."""
        started, release = self.gates()
        executor = ProcessPoolExecutor(1, initializer=tasks.init_events, initargs=(started, release),
                                       max_tasks_per_child=1, mp_context=SPAWN)
        futures = [executor.submit(tasks.block, i) for i in range(3)]
        self.assertStarted(started)
        return executor, futures, release

    def test_force_shutting_down_leaves_a_worker_at_max_tasks_unreplaced(self):
        # CPython 3.14 (gh-152967): while terminate_workers()/kill_workers() runs, a worker leaving
        # after max_tasks_per_child is not replaced; the queued futures fail instead.
        executor, futures, release = self._max_tasks_pool()
        self.addCleanup(self.dispose, executor)
        with executor._shutdown_lock:
            executor._force_shutting_down = True
        release.release()
        self.assertEqual(futures[0].result(timeout=WAIT), 0)
        for future in futures[1:]:
            error = self.assertBroken(future, timeout=WAIT)
            self.assertIn("forcefully shut down", str(error))
        self.assertTrue(executor._broken)

    def test_collected_executor_leaves_a_worker_at_max_tasks_unreplaced(self):
        # CPython 3.14 (gh-152967): once the executor is garbage collected, nothing replaces a
        # worker leaving after max_tasks_per_child; the queued futures fail instead of waiting.
        import gc
        import weakref
        executor, futures, release = self._max_tasks_pool()
        manager = executor._executor_manager_thread
        collected = weakref.ref(executor)
        del executor
        gc.collect()
        self.assertIsNone(collected())
        release.release()
        self.assertEqual(futures[0].result(timeout=WAIT), 0)
        for future in futures[1:]:
            error = self.assertBroken(future, timeout=WAIT)
            self.assertRegex(str(error), "^The ProcessPoolExecutor was garbage collected with work "
                                         "pending after its last worker process exited")
        manager.join(WAIT)
        self.assertFalse(manager.is_alive())

    def test_shutdown_without_wait_still_replaces_a_worker_at_max_tasks(self):
        # CPython 3.14 (gh-119592): shutdown(wait=False) keeps the queued work running.
        executor, futures, release = self._max_tasks_pool()
        self.addCleanup(self.dispose, executor)
        executor.shutdown(wait=False)
        for _ in futures:
            release.release()
        self.assertEqual([f.result(timeout=WAIT) for f in futures], [0, 1, 2])


class ExtensionTests(PoolTestCase):
    def test_task_timeout_fails_only_the_stuck_task(self):
        executor = self.pool(1, task_timeout=0.5)
        first = executor.submit(tasks.pid).result(timeout=WAIT)
        start = time.monotonic()
        future = executor.submit(tasks.sleep_then, 30)
        error = future.exception(timeout=WAIT)
        self.assertLess(time.monotonic() - start, DEATH_WAIT)
        self.assertIs(type(error), TimeoutError)
        self.assertIsInstance(error, cs_futures.TimeoutError)
        self.assertIsInstance(error, std.TimeoutError)
        self.assertNotEqual(executor.submit(tasks.pid).result(timeout=WAIT), first)
        self.assertFalse(executor._broken)

    def test_task_timeout_must_be_positive(self):
        for value in (0, -1):
            with self.subTest(task_timeout=value):
                with self.assertRaises(ValueError):
                    ProcessPoolExecutor(1, task_timeout=value)

    def test_isolate_crashes(self):
        executor = self.pool(2, isolate_crashes=True)
        crash = executor.submit(tasks.exit_now, 3)
        others = [executor.submit(tasks.sleep_then, 0.1, i) for i in range(4)]
        error = self.assertBroken(crash)
        self.assertEqual(error.exitcode, 3)
        self.assertEqual([f.result(timeout=WAIT) for f in others], list(range(4)))
        self.assertFalse(executor._broken)
        self.assertEqual(executor.submit(tasks.add, 2, 2).result(timeout=WAIT), 4)

    def test_isolate_crashes_with_a_killed_worker(self):
        started, release = self.gates()
        executor = self.pool(1, initializer=tasks.init_events, initargs=(started, release),
                             isolate_crashes=True)
        victim = executor.submit(tasks.signal_and_sleep, 30)
        after = executor.submit(tasks.square, 5)
        self.assertStarted(started)
        (pid,) = executor._processes
        executor._processes[pid].kill()
        self.assertBroken(victim)
        self.assertEqual(after.result(timeout=WAIT), 25)
        self.assertNotIn(pid, executor._processes)


class InteropTests(PoolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = ProcessPoolExecutor(2)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True)

    def test_wait_all_and_first_exception(self):
        futures = [self.executor.submit(tasks.square, i) for i in range(5)]
        done, not_done = cs_futures.wait(futures, timeout=WAIT, return_when=ALL_COMPLETED)
        self.assertEqual((done, not_done), (set(futures), set()))
        failing = self.executor.submit(tasks.raise_value_error, "x")
        done, _ = cs_futures.wait([failing], timeout=WAIT, return_when=FIRST_EXCEPTION)
        self.assertEqual(done, {failing})

    def test_wait_first_completed(self):
        started, release = self.gates()
        executor = self.pool(2, initializer=tasks.init_events, initargs=(started, release))
        slow = executor.submit(tasks.block, "slow")
        self.assertStarted(started)
        fast = executor.submit(tasks.square, 3)
        done, not_done = cs_futures.wait([slow, fast], timeout=WAIT, return_when=FIRST_COMPLETED)
        self.assertEqual((done, not_done), ({fast}, {slow}))
        release.release()
        self.assertEqual(slow.result(timeout=WAIT), "slow")

    def test_as_completed(self):
        futures = [self.executor.submit(tasks.square, i) for i in range(6)]
        results = sorted(f.result() for f in cs_futures.as_completed(futures, timeout=WAIT))
        self.assertEqual(results, [i * i for i in range(6)])

    def test_asyncio_wrap_future(self):
        async def main():
            value = await asyncio.wrap_future(self.executor.submit(tasks.square, 9))
            with self.assertRaises(ValueError):
                await asyncio.wrap_future(self.executor.submit(tasks.raise_value_error, "async"))
            loop = asyncio.get_running_loop()
            other = await loop.run_in_executor(self.executor, tasks.add, 2, 3)
            return value, other

        self.assertEqual(asyncio.run(asyncio.wait_for(main(), WAIT)), (81, 5))

    def test_with_a_thread_pool_in_the_same_program(self):
        with ThreadPoolExecutor(2) as threads:
            # Threads submit to the process pool and wait for it.
            relayed = [threads.submit(lambda i=i: self.executor.submit(tasks.square, i).result(WAIT))
                       for i in range(4)]
            local = threads.submit(tasks.add, 10, 20)
            remote = self.executor.submit(tasks.add, 1, 2)
            done, not_done = cs_futures.wait(relayed + [local, remote], timeout=WAIT)
            self.assertEqual(not_done, set())
            self.assertEqual([f.result() for f in relayed], [0, 1, 4, 9])
            self.assertEqual((local.result(), remote.result()), (30, 3))

    def test_a_thread_pool_inside_a_worker(self):
        self.assertEqual(self.executor.submit(tasks.thread_pool_sum, [-1, -2, 3]).result(timeout=30), 6)


class ScriptTests(unittest.TestCase):
    def run_script(self, *args):
        rc, out, err = run_child(list(args), env=child_env(), timeout=60)
        self.assertEqual(rc, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))
        return out, err

    def test_print_in_a_task_reaches_the_parent_stdout(self):
        out, err = self.run_script(os.path.join(SCRIPTS, "proc_print.py"))
        self.assertEqual(out, "builtin-print-from-worker\nmain-function-print-from-worker\nPARENT True\n")
        self.assertEqual(err, "stderr-from-worker\n")

    def check_no_guard_output(self, out):
        self.assertEqual(out.count("TOP"), 1, "the main script's top level ran again:\n" + out)
        self.assertEqual(out.splitlines(), [
            "TOP",
            "POINTS [(0, 0), (1, 10), (2, 20), (3, 30)]",
            "ISINSTANCE True True",
            "OTHER_PROCESS True",
            "NORMS [25, 2]",
            "METHOD 169",
            "END cs_futures.process",
        ])

    def test_script_without_main_guard(self):
        out, err = self.run_script(os.path.join(SCRIPTS, "proc_no_guard.py"))
        self.check_no_guard_output(out)
        self.assertEqual(err, "")

    def test_script_without_main_guard_under_the_runner(self):
        out, err = self.run_script("-m", "cs_futures", os.path.join(SCRIPTS, "proc_no_guard_migrated.py"))
        lines = out.splitlines()
        self.assertIn("WAIT 4 0 [0, 1, 4, 9]", lines)
        self.check_no_guard_output("".join(line + "\n" for line in lines if not line.startswith("WAIT")))
        self.assertEqual(err, "")

    def test_main_initializer_sets_a_global_the_main_tasks_read(self):
        out, err = self.run_script("-m", "cs_futures", os.path.join(SCRIPTS, "proc_main_initializer.py"))
        self.assertEqual(out.splitlines(), ["['t0', 't1', 't2']"], err)



class CompatibilityNamesTests(unittest.TestCase):
    """CPython's private names of concurrent/futures/process.py resolve on cs_futures.process (from
    _process_compat), and map() is written once for the process pool and the cluster."""

    def test_every_name_of_the_standard_module_resolves(self):
        import cs_futures.process as ours
        missing = [name for name in vars(std.process) if not name.startswith("__") and not hasattr(ours, name)]
        self.assertEqual(missing, [])
        for name in ("_WorkerProcess", "_PoolManager", "_CallQueue", "_mp_exitcode", "_process_chunk",
                     "_RemoteTraceback", "_check_system_limits", "_ExecutorManagerThread"):
            self.assertTrue(hasattr(ours, name), name)
        self.assertIs(ours._RemoteTraceback, std.process._RemoteTraceback)

    def test_map_comes_once(self):
        import cs_futures.cluster
        import cs_futures.process as ours
        self.assertIs(ProcessPoolExecutor.map, cs_futures.cluster.ClusterExecutor.map)
        self.assertIs(ProcessPoolExecutor.map, ours._MapInChunks.map)
        self.assertTrue(ProcessPoolExecutor.map.__doc__.startswith("Returns an iterator equivalent to map(fn, iter)."))
        self.assertIn("chunksize", ProcessPoolExecutor.map.__doc__)
        with self.assertRaisesRegex(ValueError, "chunksize must be >= 1"):
            ProcessPoolExecutor(1).map(abs, [1], chunksize=0)


if __name__ == "__main__":
    unittest.main()
