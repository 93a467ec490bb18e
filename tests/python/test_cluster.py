"""cs_futures.ClusterExecutor with its embedded node: a real Orleans silo inside this process and
real worker processes. The executor keeps CPython's semantics (map order and timeout,
as_completed, wait, cancel, shutdown with cancel_futures, exceptions with the remote traceback) and
the cluster's own rules (KilledWorker, payload limit, task timeout, what cannot cross machines),
and the executor's log through Python's logging (with two node processes: a node lost is logged).
Other tests with separate node processes are in test_cluster_nodes."""
import asyncio
import logging
import multiprocessing
import os
import sys
import tempfile
import time
import unittest

import cs_futures
from cs_futures import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, CancelledError,
                        ClusterExecutor, ThreadPoolExecutor, TimeoutError, as_completed, wait)
from cs_futures import cluster
from cs_futures.process import BrokenProcessPool

from . import cluster_tasks as tasks
from .cluster_nodes import Node, wait_until
from .support import WAIT, child_env, run_child

LONG = 60  # seconds: the bound on a wait that involves starting the cluster or a worker


class EmbeddedClusterTest(unittest.TestCase):
    """One embedded executor (two worker processes) for the class: the node starts once."""

    @classmethod
    def setUpClass(cls):
        cls.ex = ClusterExecutor(max_workers=2)
        cls.ex.submit(tasks.square, 1).result(LONG)  # the node and its workers are up
        cls.folder = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.ex.shutdown(wait=True, cancel_futures=True)
        cls.folder.cleanup()

    def release_file(self, name):
        return os.path.join(self.folder.name, "%s-%s" % (self.id(), name))

    def test_submit_returns_the_result_and_cs_futures_futures(self):
        future = self.ex.submit(tasks.add, 2, b=3)
        self.assertIsInstance(future, cs_futures.Future)
        self.assertEqual(future.result(LONG), 5)
        self.assertTrue(future.done())

    def test_work_runs_in_other_processes(self):
        pids = set(self.ex.map(tasks.pid_of, range(40)))
        self.assertNotIn(os.getpid(), pids)
        self.assertLessEqual(len(pids), 2)

    def test_map_keeps_order_with_and_without_chunks(self):
        expected = [x * x for x in range(300)]
        self.assertEqual(list(self.ex.map(tasks.square, range(300))), expected)
        self.assertEqual(list(self.ex.map(tasks.square, range(300), chunksize=7)), expected)
        self.assertEqual(list(self.ex.map(tasks.add, range(5), range(5), buffersize=2)), [0, 2, 4, 6, 8])
        with self.assertRaises(ValueError):
            self.ex.map(tasks.square, range(3), chunksize=0)

    def test_map_timeout_raises_timeout_error(self):
        release = self.release_file("go")
        results = self.ex.map(tasks.wait_for_file, [release], timeout=0.3)
        try:
            with self.assertRaises(TimeoutError):
                next(results)
        finally:
            open(release, "w").close()

    def test_exception_is_reraised_with_the_remote_traceback_as_cause(self):
        future = self.ex.submit(tasks.fail, "boom")
        with self.assertRaisesRegex(ValueError, "boom") as caught:
            future.result(LONG)
        cause = caught.exception.__cause__
        self.assertIsNotNone(cause)
        self.assertIn("in fail", str(cause))
        self.assertIn('raise ValueError(message)', str(cause))

    def test_as_completed_and_wait_mix_cluster_and_thread_pool_futures(self):
        with ThreadPoolExecutor(2) as threads:
            mixed = [self.ex.submit(tasks.square, 3), threads.submit(pow, 2, 5),
                     self.ex.submit(tasks.add, 1, 1)]
            self.assertEqual(sorted(f.result() for f in as_completed(mixed, timeout=LONG)), [2, 9, 32])
            done, not_done = wait(mixed, timeout=LONG, return_when=ALL_COMPLETED)
            self.assertEqual((len(done), len(not_done)), (3, 0))
        release = self.release_file("go")
        slow = self.ex.submit(tasks.wait_for_file, release, "slow")
        failing = self.ex.submit(tasks.fail, "first")
        done, not_done = wait([slow, failing], timeout=LONG, return_when=FIRST_EXCEPTION)
        self.assertEqual(done, {failing})
        self.assertEqual(not_done, {slow})
        done, _ = wait([slow, failing], timeout=LONG, return_when=FIRST_COMPLETED)
        self.assertIn(failing, done)
        open(release, "w").close()
        self.assertEqual(slow.result(LONG), "slow")

    def test_cancel_a_queued_future_but_not_a_running_one(self):
        # The node holds two tasks per worker (one running, one next; CPython's process pool holds
        # max_workers + 1): both count as running. The fifth task stays queued in this process.
        release = self.release_file("go")
        busy = [self.ex.submit(tasks.wait_for_file, release, i) for i in range(4)]
        deadline = time.monotonic() + LONG
        while not all(f.running() for f in busy):
            self.assertLess(time.monotonic(), deadline, "the node never took the four tasks")
            time.sleep(0.01)
        queued = self.ex.submit(tasks.square, 4)
        self.assertTrue(queued.cancel())
        self.assertTrue(queued.cancelled())
        self.assertFalse(busy[0].cancel())
        with self.assertRaises(CancelledError):
            queued.result(0)
        open(release, "w").close()
        self.assertEqual([f.result(LONG) for f in busy], [0, 1, 2, 3])
        self.assertEqual(self.ex.submit(tasks.square, 5).result(LONG), 25)

    def test_asyncio_run_in_executor_and_wrap_future(self):
        async def main():
            loop = asyncio.get_running_loop()
            a = await loop.run_in_executor(self.ex, tasks.square, 6)
            b = await asyncio.wrap_future(self.ex.submit(tasks.add, 1, 2))
            return a, b
        self.assertEqual(asyncio.run(asyncio.wait_for(main(), LONG)), (36, 3))

    def test_a_dead_worker_costs_an_attempt_and_killed_worker_ends_the_task(self):
        with ClusterExecutor(max_workers=2, allowed_failures=1) as ex:
            doomed = ex.submit(tasks.exit_worker, 3)
            others = [ex.submit(tasks.square, i) for i in range(20)]
            with self.assertRaises(cluster.KilledWorker) as caught:
                doomed.result(LONG)
            self.assertEqual([f.result(LONG) for f in others], [i * i for i in range(20)])
            self.assertEqual(caught.exception.attempts, 2)
            self.assertTrue(caught.exception.last_node)
            self.assertEqual(ex.stats()["attempts_lost"], 2)

    def test_attempts_are_counted_per_item_within_a_map_chunk(self):
        # A chunk of 6 holds one item that kills its worker: the chunk's lost run counts one attempt
        # for each item, then the items run one by one; only the poison item fails, with
        # KilledWorker after allowed_failures + 1 = 2 attempts; the other five complete.
        with tempfile.TemporaryDirectory() as folder, \
                ClusterExecutor(max_workers=2, allowed_failures=1) as ex:
            results = ex.map(tasks.mark_or_exit, [folder] * 12, range(12), [3] * 12, chunksize=6)
            with self.assertRaises(cluster.KilledWorker) as caught:
                list(results)
            self.assertEqual(caught.exception.attempts, 2)
            self.assertIn("in its map chunk", str(caught.exception))
            ex.shutdown(wait=True)
            self.assertEqual(sorted(os.listdir(folder)),
                             sorted("done-%d" % i for i in range(12) if i != 3))
            self.assertEqual(ex.stats()["attempts_lost"], 2)

    def test_an_oversized_payload_fails_only_its_future(self):
        with ClusterExecutor(max_workers=2, max_payload=10_000) as ex:
            big = ex.submit(tasks.size_of, b"x" * 20_000)
            small = ex.submit(tasks.size_of, b"x" * 100)
            with self.assertRaisesRegex(cluster.PayloadTooLarge, "over the limit of 10000 bytes"):
                big.result(LONG)
            self.assertEqual(small.result(LONG), 100)
            self.assertEqual(ex.stats()["attempts_lost"], 0)

    def test_task_timeout_fails_the_task_with_timeout_error_and_the_executor_goes_on(self):
        with ClusterExecutor(max_workers=2, task_timeout=0.5) as ex:
            stuck = ex.submit(tasks.wait_for_file, self.release_file("never"))
            with self.assertRaises(TimeoutError):
                stuck.result(LONG)
            self.assertEqual(ex.submit(tasks.square, 9).result(LONG), 81)

    def test_objects_bound_to_this_machine_are_refused_through_the_future(self):
        reader, writer = multiprocessing.Pipe()
        for obj in (multiprocessing.Lock(), reader, multiprocessing.Queue()):
            future = self.ex.submit(tasks.size_of, [obj])
            with self.assertRaisesRegex(TypeError, "cannot be sent to a cluster"):
                future.result(0)
        reader.close(), writer.close()

    def test_a_task_pickled_by_another_python_minor_version_is_refused(self):
        from _cs_futures_worker import _worker
        real = _worker.cluster_tag
        _worker.cluster_tag = lambda: _worker.CLUSTER_TAG + bytes([3, 2])
        try:
            future = self.ex.submit(tasks.square, 2)
        finally:
            _worker.cluster_tag = real
        with self.assertRaisesRegex(BrokenProcessPool, "could not be unpickled") as caught:
            future.result(LONG)
        self.assertIsInstance(caught.exception.__cause__, cluster.VersionMismatch)
        self.assertIn("pickled by Python 3.2", str(caught.exception.__cause__))

    def test_argument_errors(self):
        for kwargs in ({"max_workers": 0}, {"allowed_failures": -1}, {"max_payload": 0},
                       {"task_timeout": 0}):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                ClusterExecutor(**kwargs)


class ShutdownTest(unittest.TestCase):

    def test_shutdown_with_cancel_futures_cancels_the_queued_tasks(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        release = os.path.join(folder.name, "go")
        ex = ClusterExecutor(max_workers=1)
        ex.submit(tasks.square, 1).result(LONG)
        running = ex.submit(tasks.wait_for_file, release, "ran")
        deadline = time.monotonic() + LONG
        while not running.running():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        queued = [ex.submit(tasks.square, i) for i in range(5)]
        ex.shutdown(wait=False, cancel_futures=True)
        # The node may hold one more task than it runs (two per worker): that one is running, is
        # not cancelled, and completes; the others are cancelled.
        held = [f for f in queued if not f.cancelled()]
        self.assertLessEqual(len(held), 1)
        self.assertTrue(all(f.running() or f.done() for f in held))
        with self.assertRaisesRegex(RuntimeError, "cannot schedule new futures after shutdown"):
            ex.submit(tasks.square, 1)
        open(release, "w").close()
        ex.shutdown(wait=True)
        self.assertEqual(running.result(0), "ran")
        self.assertEqual([f.result(0) for f in held], [queued.index(f) ** 2 for f in held])

    def test_main_script_functions_travel_by_value(self):
        script = (
            "from cs_futures import ClusterExecutor\n"
            "def triple(x):\n"
            "    return 3 * x\n"
            "if __name__ == '__main__':\n"
            "    with ClusterExecutor(max_workers=1) as ex:\n"
            "        print(list(ex.map(triple, range(4))))\n")
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(script)
        self.addCleanup(os.unlink, f.name)
        code, out, err = run_child([f.name], timeout=LONG)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "[0, 3, 6, 9]")


class LoggingTest(unittest.TestCase):
    """The .NET executor's log lines reach ``logging.getLogger("cs_futures.cluster")``."""

    def test_a_lost_node_is_logged_as_a_warning_while_the_executor_runs(self):
        primary = Node("--primary")
        self.addCleanup(primary.stop)
        victim = Node("--seed", primary.silo)
        self.addCleanup(victim.stop)
        with self.assertLogs("cs_futures.cluster", logging.WARNING) as logs:
            with ClusterExecutor(primary.gateway) as ex:
                # The victim has run tasks: the executor knows it (and watches its connection).
                deadline = time.monotonic() + LONG
                while not set(victim.worker_pids()) & set(ex.map(tasks.pid_of, range(8), timeout=LONG)):
                    self.assertLess(time.monotonic(), deadline, "no task ran on the second node")
                victim.kill()
                # Logged while the executor runs (the draining thread), not only at its shutdown.
                wait_until(lambda: any(victim.node_id in r.getMessage() for r in logs.records), LONG,
                           "the lost node was not logged")
                self.assertEqual(ex.submit(tasks.square, 7).result(LONG), 49)  # the rest goes on
        lost = [r for r in logs.records if victim.node_id in r.getMessage()]
        self.assertEqual(lost[0].levelno, logging.WARNING)
        self.assertEqual(lost[0].name, "cs_futures.cluster")
        self.assertRegex(lost[0].getMessage(), r"^ClusterExecutor-\d+: node \S+ lost: ")

    def test_a_quiet_run_logs_no_warning(self):
        with self.assertNoLogs("cs_futures.cluster", logging.WARNING):
            with ClusterExecutor(max_workers=1) as ex:
                self.assertEqual(list(ex.map(tasks.square, range(5))), [0, 1, 4, 9, 16])
            self.assertEqual(ex._cluster.rt.cluster_logs(ex._cluster.h), [])  # the bridge's entry: drained

    def test_lines_keep_their_level_and_order_and_a_failing_filter_loses_only_its_line(self):
        from cs_futures.cluster import _logs

        class Engine:  # the bridge's cluster_logs: (level, line) tuples, oldest first
            def cluster_logs(self, handle):
                return [(logging.WARNING, "ClusterExecutor-9: node n1 lost: a test"),
                        (logging.INFO, "ClusterExecutor-9: boom"),
                        (logging.ERROR, "ClusterExecutor-9: the watchdog gave up after 60 s: a test")]

        class Cluster:
            rt = Engine()
            h = 1

        def refuse_boom(record):
            if "boom" in record.getMessage():
                raise RuntimeError("a filter that fails")
            return True

        logger = logging.getLogger("cs_futures.cluster")
        logger.addFilter(refuse_boom)
        self.addCleanup(logger.removeFilter, refuse_boom)
        with self.assertLogs("cs_futures.cluster", logging.INFO) as logs:
            _logs.drain(Cluster())  # does not raise
        self.assertEqual([(r.levelno, r.getMessage()) for r in logs.records],
                         [(logging.WARNING, "ClusterExecutor-9: node n1 lost: a test"),
                          (logging.ERROR, "ClusterExecutor-9: the watchdog gave up after 60 s: a test")])


if __name__ == "__main__":
    unittest.main()
