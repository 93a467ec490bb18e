"""executor.stats(): the counters that the .NET engine keeps for each pool (and publishes as
metrics), read from Python. CPython's concurrent.futures has no such call."""
import threading
import unittest

from cs_futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

from . import proc_tasks as tasks
from .support import WAIT


class ThreadPoolStatsTests(unittest.TestCase):
    def test_counts_completed_failed_and_cancelled_tasks(self):
        release = threading.Event()
        started = threading.Event()

        def blocker():
            started.set()
            return release.wait(WAIT)

        with ThreadPoolExecutor(1, thread_name_prefix="stats-pool") as executor:
            self.assertEqual(executor.stats(), dict(name="stats-pool", submitted=0, completed=0,
                                                    failed=0, cancelled=0, queued=0, workers=0))
            first = executor.submit(blocker)
            self.assertTrue(started.wait(WAIT))
            queued = [executor.submit(abs, -i) for i in range(3)]
            doomed = [executor.submit(abs, 1), executor.submit(abs, 2)]
            for future in doomed:
                self.assertTrue(future.cancel())
            failing = executor.submit(int, "not a number")
            stats = executor.stats()
            self.assertEqual(stats["submitted"], 7)
            self.assertEqual(stats["queued"], 6, "everything but the blocker waits for the one thread")
            self.assertEqual(stats["workers"], 1)
            release.set()
            wait([first, failing, *queued], timeout=WAIT)
        stats = executor.stats()
        self.assertEqual((stats["submitted"], stats["completed"], stats["failed"], stats["cancelled"]),
                         (7, 4, 1, 2))
        self.assertEqual(stats["queued"], 0)
        self.assertEqual(stats["workers"], 0, "the thread exited at shutdown")

    def test_shutdown_with_cancel_futures_counts_the_queued_tasks_as_cancelled(self):
        release = threading.Event()
        started = threading.Event()

        def blocker():
            started.set()
            return release.wait(WAIT)

        executor = ThreadPoolExecutor(1)
        executor.submit(blocker)
        self.assertTrue(started.wait(WAIT))
        for i in range(4):
            executor.submit(abs, i)
        executor.shutdown(wait=False, cancel_futures=True)
        release.set()
        executor.shutdown(wait=True)
        stats = executor.stats()
        self.assertEqual((stats["submitted"], stats["completed"], stats["cancelled"]), (5, 1, 4))
        self.assertTrue(stats["name"].startswith("ThreadPoolExecutor-"))


class ProcessPoolStatsTests(unittest.TestCase):
    def test_counts_tasks_and_worker_processes(self):
        with ProcessPoolExecutor(1, max_tasks_per_child=2) as executor:
            before = executor.stats()
            self.assertTrue(before["name"].startswith("ProcessPoolExecutor-"))
            self.assertEqual(before["submitted"], 0)
            futures = [executor.submit(tasks.square, i) for i in range(3)]
            futures.append(executor.submit(tasks.raise_value_error))
            wait(futures, timeout=WAIT)
            self.assertEqual([f.result() for f in futures[:3]], [0, 1, 4])
        stats = executor.stats()
        self.assertEqual((stats["submitted"], stats["completed"], stats["failed"], stats["cancelled"]),
                         (4, 3, 1, 0))
        # max_tasks_per_child=2 and 4 tasks: the first worker is replaced once, the second runs the
        # last two tasks and leaves at shutdown.
        self.assertEqual((stats["worker_starts"], stats["worker_restarts"], stats["worker_deaths"]),
                         (2, 1, 0))
        self.assertEqual((stats["queued"], stats["workers"]), (0, 0))

    def test_a_worker_that_dies_counts_as_a_death_and_its_task_as_failed(self):
        # With 'fork' every worker is kept running, so the dead one is replaced at once (a restart);
        # with 'forkserver' (3.14's default) workers start on demand, as in CPython, so the next
        # submit starts the second worker (a start, not a restart).
        import multiprocessing
        for method, restarts in (("fork", 1), ("forkserver", 0)):
            with self.subTest(start_method=method):
                context = multiprocessing.get_context(method)
                with ProcessPoolExecutor(1, mp_context=context, isolate_crashes=True) as executor:
                    crashed = executor.submit(tasks.exit_now, 3)
                    self.assertIsNotNone(crashed.exception(timeout=WAIT))
                    self.assertEqual(executor.submit(tasks.square, 3).result(timeout=WAIT), 9)
                stats = executor.stats()
                self.assertEqual((stats["submitted"], stats["completed"], stats["failed"]), (2, 1, 1))
                self.assertEqual((stats["worker_starts"], stats["worker_deaths"], stats["worker_restarts"]),
                                 (2, 1, restarts))


if __name__ == "__main__":
    unittest.main()
