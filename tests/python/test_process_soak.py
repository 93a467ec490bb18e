"""The parent's resources stay bounded however many workers a pool goes through (issue 12, section 3).

With ``max_tasks_per_child=1`` every task has its own worker process: a descriptor, thread or table
entry kept per worker would grow with the number of tasks. Each case runs in a child interpreter (its
descriptor count is its own) and prints what it measured as JSON. The 10,000-task soak with memory
figures is in ``benchmarks/process_soak.py``; these tests run 160 tasks, enough for a leak of
one descriptor per worker to exceed the bound many times over.
"""
import json
import textwrap
import unittest

from .support import run_child

PRELUDE = textwrap.dedent("""
    import gc, json, multiprocessing, os, sys
    from cs_futures import ProcessPoolExecutor
    from cs_futures import _descriptors as cs_descriptors
    from tests.python import proc_tasks as tasks

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    def report(**values):
        print(json.dumps(values), flush=True)
""")


def run_case(body, timeout=240):
    import os
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    rc, out, err = run_child(["-c", PRELUDE + textwrap.dedent(body)], timeout=timeout, cwd=root)
    if rc != 0:
        raise AssertionError("the child failed (%s):\n%s\n%s" % (rc, out, err))
    return json.loads(out.strip().splitlines()[-1])


class DescriptorBoundTests(unittest.TestCase):
    def test_max_tasks_per_child_1_keeps_descriptors_and_worker_tables_bounded(self):
        report = run_case("""
            with ProcessPoolExecutor(2, max_tasks_per_child=1) as warm:   # .NET, sockets, threads
                warm.submit(abs, -1).result(timeout=60)
            gc.collect()
            before = open_fds()
            executor = ProcessPoolExecutor(2, max_tasks_per_child=1)
            pids = set()
            peak_views = 0
            for start in range(0, 160, 20):
                futures = [executor.submit(tasks.pid) for _ in range(20)]
                pids.update(f.result(timeout=60) for f in futures)
                executor._processes                     # views are made for the current workers
                gc.collect()
                peak_views = max(peak_views, len(executor._workers))
            executor.shutdown(wait=True)
            gc.collect()
            report(before=before, after=open_fds(), workers=len(pids), peak_views=peak_views)
        """)
        self.assertGreaterEqual(report["workers"], 150, report)  # one worker per task (or nearly)
        self.assertLessEqual(report["after"] - report["before"], 10, report)
        self.assertLessEqual(report["peak_views"], 4, report)

    def test_descriptors_shared_with_tasks_are_released(self):
        # A multiprocessing Queue in a task's arguments travels through the descriptor server (its
        # pipe ends are duplicated for the worker): each duplicate is closed once handed out.
        report = run_case("""
            queue = multiprocessing.get_context("spawn").Queue()
            executor = ProcessPoolExecutor(2, max_tasks_per_child=1)
            executor.submit(tasks.put_into, queue, -1).result(timeout=60)
            assert queue.get(timeout=60) == -1
            gc.collect()
            before = open_fds()
            for i in range(40):
                assert executor.submit(tasks.put_into, queue, i).result(timeout=60) == i
            got = sorted(queue.get(timeout=60) for _ in range(40))
            held = cs_descriptors.server().open_count()
            executor.shutdown(wait=True)
            gc.collect()
            report(before=before, after=open_fds(), held=held, got=got == list(range(40)))
        """)
        self.assertTrue(report["got"], report)
        self.assertEqual(report["held"], 0, report)
        self.assertLessEqual(report["after"] - report["before"], 10, report)

    def test_descriptors_of_a_cancelled_task_are_released(self):
        # A queued task cancelled before any worker asked for its descriptors.
        report = run_case("""
            import threading
            queue = multiprocessing.get_context("spawn").Queue()
            started = multiprocessing.get_context("spawn").Event()
            release = multiprocessing.get_context("spawn").Event()
            executor = ProcessPoolExecutor(1, initializer=tasks.init_events, initargs=(started, release))
            blocker = executor.submit(tasks.block, "done")
            assert started.wait(60)
            queued = [executor.submit(tasks.put_into, queue, i) for i in range(5)]
            held_while_queued = cs_descriptors.server().open_count()
            cancelled = [f.cancel() for f in queued]
            release.set()
            blocker.result(timeout=60)
            executor.shutdown(wait=True)
            held_after = cs_descriptors.server().open_count()
            report(queued=held_while_queued, cancelled=all(cancelled), after=held_after)
        """)
        self.assertTrue(report["cancelled"], report)
        self.assertGreaterEqual(report["queued"], 5, report)
        self.assertEqual(report["after"], 0, report)

    def test_initializer_descriptors_serve_every_replacement_then_are_released(self):
        report = run_case("""
            queue = multiprocessing.get_context("spawn").Queue()
            executor = ProcessPoolExecutor(1, max_tasks_per_child=1,
                                           initializer=tasks.init_queue, initargs=(queue,))
            values = [executor.submit(tasks.put_in_queue, i).result(timeout=60) for i in range(5)]
            seen = [queue.get(timeout=60) for _ in range(10)]      # 5 inits and 5 values
            held_while_open = cs_descriptors.server().open_count()
            executor.shutdown(wait=True)
            del executor
            gc.collect()
            report(values=values, inits=sum(1 for v in seen if v[0] == "init"),
                   held=held_while_open, after=cs_descriptors.server().open_count())
        """)
        self.assertEqual(report["values"], list(range(5)), report)
        self.assertEqual(report["inits"], 5, report)
        self.assertGreater(report["held"], 0, report)
        self.assertEqual(report["after"], 0, report)


if __name__ == "__main__":
    unittest.main()
