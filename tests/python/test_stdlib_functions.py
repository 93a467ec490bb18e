"""The standard library's own ``concurrent.futures.wait``, ``as_completed`` and
``asyncio.wrap_future`` over PENDING futures of every cs_futures executor (thread, process,
interpreter, cluster), mixed with the standard library's futures, without ``python -m cs_futures``:
``from concurrent.futures import as_completed`` next to ``from cs_futures import ThreadPoolExecutor``
(issue 21, part 3). CPython's functions use the future's ``_condition``, ``_waiters`` and ``_state``.

Tasks are held by gates (an event for threads, a file for other processes and interpreters) and
released when the test says so; a gate released "when waited" is released once the standard
library's waiter is in every future's ``_waiters``.
"""
import asyncio
import concurrent.futures
import functools
import gc
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import weakref
from concurrent.futures import _base as std_base

import cs_futures
from cs_futures import Future, ProcessPoolExecutor, ThreadPoolExecutor

from . import stdmix_tasks as tasks
from .support import WAIT

# The standard library's functions and constants themselves (this module never aliases them).
std_wait = std_base.wait
std_as_completed = std_base.as_completed
FIRST_COMPLETED = std_base.FIRST_COMPLETED
FIRST_EXCEPTION = std_base.FIRST_EXCEPTION
ALL_COMPLETED = std_base.ALL_COMPLETED
PENDING = std_base.PENDING
FINISHED = std_base.FINISHED
SHORT = 0.05  # seconds: a timeout that is meant to pass
LONG = 60  # seconds: the bound on a wait that involves starting the cluster

_counter = itertools.count()
FOLDER = None  # the gates' files (setUpModule)


def setUpModule():
    global FOLDER
    FOLDER = tempfile.mkdtemp(prefix="cs_futures-stdmix-")


def tearDownModule():
    shutil.rmtree(FOLDER, True)


def _touch(path):
    with open(path, "w"):
        pass


def _gated_by_event(event, value=None, error=None):
    if not event.wait(WAIT * 6):
        raise TimeoutError("the test never released the task")
    if error is not None:
        raise ValueError(error)
    return value


def _identity(value):
    return value


def when_waited(futures, action):
    """Run *action* on another thread once every future in *futures* has a waiter in its
    ``_waiters`` (the standard library's wait or as_completed installed it). Returns the thread."""

    def run():
        deadline = time.monotonic() + WAIT
        while not all(len(f._waiters) for f in futures) and time.monotonic() < deadline:
            time.sleep(0.001)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class Recorder:
    """A waiter as CPython's: records what each future reported."""

    def __init__(self):
        self.calls = []

    def add_result(self, future):
        self.calls.append(("result", future))

    def add_exception(self, future):
        self.calls.append(("exception", future))

    def add_cancelled(self, future):
        self.calls.append(("cancelled", future))


class StdlibNotAliased(unittest.TestCase):
    def test_the_functions_are_the_standard_librarys(self):
        # The point of this module: no `python -m cs_futures`, the stdlib's own functions.
        self.assertIs(concurrent.futures.wait, std_wait)
        self.assertIs(concurrent.futures.as_completed, std_as_completed)
        self.assertEqual(std_wait.__module__, "concurrent.futures._base")


class GatedCases:
    """What each executor's futures must do under the standard library's functions. Subclasses set
    ``executor`` and may override :meth:`gated` and :meth:`quick`."""

    executor = None

    def setUp(self):
        # One folder for the module, removed after the executors are shut down: a gate's file
        # removed at the end of its test could be missed by the task it releases.
        self.folder = FOLDER
        self._releases = []
        self.addCleanup(self._release_all)

    def _release_all(self):
        for release in self._releases:
            release()

    def gated(self, value=None, error=None):
        """(future, release): a task that returns *value* (raises ValueError(*error*)) once released."""
        path = os.path.join(self.folder, "gate-%d" % next(_counter))
        release = functools.partial(_touch, path)
        self._releases.append(release)
        return self.executor.submit(tasks.gated, path, value, error), release

    def quick(self, value):
        return self.executor.submit(tasks.identity, value)

    def assertNoWaiters(self, *futures):
        for future in futures:
            self.assertEqual(len(future._waiters), 0, "the waiters are removed when the wait ends")

    # as_completed

    def test_as_completed_yields_pending_futures_in_finishing_order(self):
        f1, release1 = self.gated(1)
        f2, release2 = self.gated(2)
        f3 = self.quick(3)
        self.assertEqual(f3.result(LONG), 3)
        iterator = std_as_completed([f1, f2, f3], timeout=LONG)
        self.assertIs(next(iterator), f3, "the done one first")
        self.assertFalse(f1.done() or f2.done())
        release2()
        self.assertIs(next(iterator), f2)
        release1()
        self.assertIs(next(iterator), f1)
        self.assertEqual(list(iterator), [])
        self.assertEqual((f1.result(), f2.result()), (1, 2))
        self.assertNoWaiters(f1, f2, f3)

    def test_wait_first_completed_returns_at_the_first_to_finish(self):
        f1, release1 = self.gated(1)
        f2, release2 = self.gated(2)
        when_waited([f1, f2], release1)
        done, not_done = std_wait([f1, f2], timeout=LONG, return_when=FIRST_COMPLETED)
        self.assertEqual((done, not_done), ({f1}, {f2}))
        self.assertNoWaiters(f1, f2)
        release2()
        self.assertEqual(f2.result(LONG), 2)

    def test_mixed_with_standard_library_futures(self):
        event = threading.Event()
        self._releases.append(event.set)
        with concurrent.futures.ThreadPoolExecutor(1) as std_pool:
            theirs = std_pool.submit(_gated_by_event, event, "theirs")
            ours, release = self.gated("ours")
            iterator = std_as_completed([theirs, ours], timeout=LONG)
            when_waited([theirs, ours], release)
            self.assertIs(next(iterator), ours)
            event.set()
            self.assertIs(next(iterator), theirs)
            self.assertEqual(list(iterator), [])

            ours2, release2 = self.gated("ours2")
            theirs2 = std_pool.submit(_identity, "theirs2")
            when_waited([ours2], release2)
            done, not_done = std_wait([theirs2, ours2], timeout=LONG)
            self.assertEqual((done, not_done), ({theirs2, ours2}, set()))
            self.assertEqual(ours2.result(), "ours2")
            self.assertNoWaiters(ours, ours2)


class MoreGatedCases(GatedCases):
    """The rest of the cases: every return condition, timeouts, duplicates, asyncio."""

    def test_wait_all_completed_waits_for_every_pending_future(self):
        f1, release1 = self.gated(1)
        f2, release2 = self.gated(2)
        f3 = self.quick(3)
        f3.result(LONG)
        when_waited([f1, f2], lambda: (release1(), release2()))
        done, not_done = std_wait([f1, f2, f3], timeout=LONG)
        self.assertEqual((done, not_done), ({f1, f2, f3}, set()))
        self.assertEqual([f.result() for f in (f1, f2, f3)], [1, 2, 3])
        self.assertNoWaiters(f1, f2, f3)

    def test_wait_first_exception_returns_at_the_first_failure(self):
        failing, release_failing = self.gated(error="boom")
        other, release_other = self.gated(2)
        when_waited([failing, other], release_failing)
        done, not_done = std_wait([failing, other], timeout=LONG, return_when=FIRST_EXCEPTION)
        self.assertEqual((done, not_done), ({failing}, {other}))
        self.assertIsInstance(failing.exception(), ValueError)
        self.assertEqual(str(failing.exception()), "boom")
        release_other()
        self.assertEqual(other.result(LONG), 2)

    def test_wait_first_exception_without_one_waits_for_all(self):
        f1, release1 = self.gated(1)
        f2, release2 = self.gated(2)
        when_waited([f1, f2], lambda: (release1(), release2()))
        done, not_done = std_wait([f1, f2], timeout=LONG, return_when=FIRST_EXCEPTION)
        self.assertEqual((done, not_done), ({f1, f2}, set()))

    def test_wait_first_exception_already_failed_returns_at_once(self):
        failed = self.executor.submit(tasks.gated, self.folder, error="early")  # the folder exists
        self.assertIsInstance(failed.exception(LONG), ValueError)
        pending, _ = self.gated(2)
        done, not_done = std_wait([failed, pending], timeout=LONG, return_when=FIRST_EXCEPTION)
        self.assertEqual((done, not_done), ({failed}, {pending}))

    def test_wait_timeout_returns_the_pending_as_not_done(self):
        pending, _ = self.gated(1)
        finished = self.quick(2)
        finished.result(LONG)
        for return_when in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
            done, not_done = std_wait([pending], timeout=SHORT, return_when=return_when)
            self.assertEqual((done, not_done), (set(), {pending}), return_when)
        done, not_done = std_wait([pending, finished], timeout=SHORT)
        self.assertEqual((done, not_done), ({finished}, {pending}))
        self.assertNoWaiters(pending, finished)

    def test_as_completed_timeout_raises_with_the_standard_message(self):
        pending, _ = self.gated(1)
        finished = self.quick(2)
        finished.result(LONG)
        yielded = []
        with self.assertRaises(concurrent.futures.TimeoutError) as caught:
            for future in std_as_completed([pending, finished], timeout=SHORT):
                yielded.append(future)
        self.assertEqual(str(caught.exception), "1 (of 2) futures unfinished")
        self.assertEqual(yielded, [finished])
        self.assertNoWaiters(pending, finished)

    def test_duplicates_are_waited_on_and_yielded_once(self):
        pending, release = self.gated(1)
        finished = self.quick(2)
        finished.result(LONG)
        done, not_done = std_wait([pending, finished, pending, finished], timeout=LONG,
                                  return_when=FIRST_COMPLETED)
        self.assertEqual((done, not_done), ({finished}, {pending}))
        iterator = std_as_completed([pending, pending, finished, finished], timeout=LONG)
        self.assertIs(next(iterator), finished)
        release()
        self.assertEqual(list(iterator), [pending])

    def test_asyncio_wrap_future_awaits_the_result_and_the_exception(self):
        ok, release_ok = self.gated("value")
        failing, release_failing = self.gated(error="bad")

        async def main():
            wrapped_ok = asyncio.wrap_future(ok)
            wrapped_failing = asyncio.wrap_future(failing)
            self.assertFalse(wrapped_ok.done())
            release_ok()
            release_failing()
            self.assertEqual(await asyncio.wait_for(wrapped_ok, LONG), "value")
            with self.assertRaises(ValueError) as caught:
                await asyncio.wait_for(wrapped_failing, LONG)
            self.assertEqual(str(caught.exception), "bad")

        asyncio.run(main())


class ThreadPoolTests(MoreGatedCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = ThreadPoolExecutor(max_workers=3)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True)

    def gated(self, value=None, error=None):
        event = threading.Event()
        self._releases.append(event.set)
        return self.executor.submit(_gated_by_event, event, value, error), event.set

    def quick(self, value):
        return self.executor.submit(_identity, value)

    def test_futures_are_cs_futures_futures(self):
        self.assertIsInstance(self.quick(1), cs_futures.Future)

    def one_worker_and_a_queued_future(self):
        pool = ThreadPoolExecutor(max_workers=1)
        self.addCleanup(pool.shutdown, wait=True)
        event = threading.Event()
        self._releases.append(event.set)
        running = pool.submit(_gated_by_event, event, "running")
        queued = pool.submit(_identity, "queued")
        return pool, running, event.set, queued

    def test_cancelled_queued_future_is_done_once_the_pool_notifies_it(self):
        pool, running, release, queued = self.one_worker_and_a_queued_future()
        self.assertTrue(queued.cancel())
        # A plain cancel() is not done for wait (CANCELLED, not yet CANCELLED_AND_NOTIFIED).
        done, not_done = std_wait([queued], timeout=SHORT)
        self.assertEqual((done, not_done), (set(), {queued}))
        # The worker notifies it when it takes it off the queue: the waiter is told then.
        when_waited([running, queued], release)
        done, not_done = std_wait([running, queued], timeout=LONG)
        self.assertEqual((done, not_done), ({running, queued}, set()))
        self.assertEqual(queued._state, std_base.CANCELLED_AND_NOTIFIED)
        # Cancelled and notified: done at once, and yielded by as_completed.
        self.assertEqual(std_wait([queued], timeout=0), ({queued}, set()))
        self.assertEqual(list(std_as_completed([queued], timeout=0)), [queued])

    def test_shutdown_cancel_futures_tells_the_waiters(self):
        # The engine notifies the futures that shutdown(cancel_futures=True) cancels (a difference
        # docs/differences.md lists: CPython leaves them CANCELLED, and its own functions wait for ever).
        pool, running, release, queued = self.one_worker_and_a_queued_future()
        iterator = std_as_completed([queued, running], timeout=LONG)
        when_waited([queued, running], functools.partial(pool.shutdown, wait=False, cancel_futures=True))
        self.assertIs(next(iterator), queued)
        self.assertTrue(queued.cancelled())
        release()
        self.assertEqual(list(iterator), [running])

    def test_asyncio_cancel_cancels_the_pending_future(self):
        pool, running, release, queued = self.one_worker_and_a_queued_future()

        async def main():
            wrapped = asyncio.wrap_future(queued)
            wrapped.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await wrapped

        asyncio.run(main())
        self.assertTrue(queued.cancelled())
        release()
        self.assertEqual(running.result(WAIT), "running")

    def test_as_completed_forgets_what_it_yielded(self):
        events = [threading.Event() for _ in range(2)]  # the pool has 3 workers: one stays free
        for event in events:
            self._releases.append(event.set)
        futures = [self.executor.submit(_gated_by_event, event, i) for i, event in enumerate(events)]
        futures.append(self.quick(2))
        futures[-1].result(WAIT)
        iterator = std_as_completed(futures, timeout=WAIT)
        when_waited(futures[:2], lambda: [event.set() for event in events])
        for future in iterator:
            futures.remove(future)
            ref = weakref.ref(future)
            del future
            gc.collect()
            self.assertIsNone(ref(), "as_completed keeps no reference to a yielded future")

    def test_stress_futures_finishing_while_the_waiters_are_installed(self):
        # Tasks finish while the stdlib installs its waiter on each: a future that finished after
        # the stdlib saw it pending must still be reported, or the wait never ends.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        self.addCleanup(sys.setswitchinterval, interval)
        for round_ in range(150):
            futures = [self.executor.submit(_identity, i) for i in range(20)]
            if round_ % 3 == 0:
                done, not_done = std_wait(futures, timeout=WAIT)
                self.assertEqual(not_done, set(), "round %d" % round_)
            elif round_ % 3 == 1:
                self.assertEqual(len(list(std_as_completed(futures, timeout=WAIT))), 20, "round %d" % round_)
            else:
                for _ in range(20):
                    done, not_done = std_wait(futures, timeout=WAIT, return_when=FIRST_COMPLETED)
                    self.assertTrue(done, "round %d" % round_)
                    if not not_done:
                        break
                    futures = list(not_done)
            for future in futures:
                self.assertEqual(len(future._waiters), 0)


class ProcessPoolTests(MoreGatedCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = ProcessPoolExecutor(max_workers=3)
        cls.executor.submit(tasks.identity, 0).result(LONG)  # the workers are up

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True, cancel_futures=True)


INTERPRETERS = sys.version_info >= (3, 12)


@unittest.skipUnless(INTERPRETERS, "InterpreterPoolExecutor needs Python 3.12 or newer")
class InterpreterPoolTests(MoreGatedCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = cs_futures.InterpreterPoolExecutor(max_workers=3)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True)


class ClusterTests(GatedCases, unittest.TestCase):
    """Few cases: the cluster's futures (``_Following`` on the native engine) under the stdlib."""

    @classmethod
    def setUpClass(cls):
        cls.executor = cs_futures.ClusterExecutor(max_workers=3)
        cls.executor.submit(tasks.identity, 0).result(LONG)  # the node and its workers are up

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown(wait=True, cancel_futures=True)


class WaitersTests(unittest.TestCase):
    """``future._waiters`` on a future completed by another thread, which the engine does without
    taking ``future._condition``: the race of CPython's wait between reading ``_state`` and
    appending its waiter."""

    def complete_elsewhere(self, fn, *args):
        thread = threading.Thread(target=fn, args=args)
        thread.start()
        thread.join(WAIT)

    def test_seen_pending_then_finished_is_told_at_once_and_once(self):
        future, waiter = Future(), Recorder()
        with future._condition:
            self.assertEqual(future._state, PENDING)
            self.complete_elsewhere(future.set_result, 1)
            self.assertEqual(future._state, PENDING, "what the holder saw stands while it holds")
            future._waiters.append(waiter)
            self.assertEqual(waiter.calls, [("result", future)])
        self.assertEqual(future._state, FINISHED)
        with future._condition:
            future._waiters.remove(waiter)
        self.assertEqual(waiter.calls, [("result", future)])

    def test_seen_pending_then_failed_or_cancelled_is_told_what_happened(self):
        failed, cancelled, waiter = Future(), Future(), Recorder()
        with failed._condition, cancelled._condition:
            self.assertEqual((failed._state, cancelled._state), (PENDING, PENDING))
            self.complete_elsewhere(failed.set_exception, ValueError("x"))
            self.complete_elsewhere(lambda: (cancelled.cancel(), cancelled.set_running_or_notify_cancel()))
            failed._waiters.append(waiter)
            cancelled._waiters.append(waiter)
        self.assertEqual(waiter.calls, [("exception", failed), ("cancelled", cancelled)])

    def test_seen_done_is_never_told(self):
        future, waiter = Future(), Recorder()
        future.set_result(1)
        with future._condition:
            self.assertEqual(future._state, FINISHED)
            future._waiters.append(waiter)
            self.assertEqual(len(future._waiters), 1)
            future._waiters.remove(waiter)  # removing a waiter the engine never installed
        self.assertEqual(waiter.calls, [])

    def test_told_when_finished_or_notified_not_at_a_plain_cancel(self):
        future, waiter = Future(), Recorder()
        with future._condition:
            future._waiters.append(waiter)
        self.assertTrue(future.cancel())
        self.assertEqual(waiter.calls, [], "CPython tells waiters at CANCELLED_AND_NOTIFIED only")
        self.complete_elsewhere(future.set_running_or_notify_cancel)
        self.assertEqual(waiter.calls, [("cancelled", future)])
        finished = Future()
        finished._waiters.append(waiter)
        self.complete_elsewhere(finished.set_result, None)
        self.assertEqual(waiter.calls[-1], ("result", finished))

    def test_removed_waiter_is_not_told_and_not_kept(self):
        future, waiter = Future(), Recorder()
        with future._condition:
            future._waiters.append(waiter)
            self.assertIn(waiter, future._waiters)
            future._waiters.remove(waiter)
            with self.assertRaises(ValueError):
                future._waiters.remove(waiter)
        future.set_result(1)
        self.assertEqual(waiter.calls, [])
        ref = weakref.ref(waiter)
        del waiter
        gc.collect()
        self.assertIsNone(ref(), "no reference to a removed waiter is kept")

    def test_no_reference_after_a_wait(self):
        futures = [Future() for _ in range(3)]
        thread = when_waited(futures, lambda: [f.set_result(i) for i, f in enumerate(futures)])
        self.assertEqual(std_wait(futures, timeout=WAIT).not_done, set())
        thread.join(WAIT)
        del thread
        refs = [weakref.ref(f) for f in futures]
        del futures
        gc.collect()
        self.assertEqual([r() for r in refs], [None] * 3, "no reference to a waited future is kept")

    def test_state_is_read_fresh_without_the_condition_and_after_it(self):
        future = Future()
        with future._condition:
            self.assertEqual(future._state, PENDING)
            future.set_result(1)  # this thread's own change is seen at once
            self.assertEqual(future._state, FINISHED)
        other = Future()
        with other._condition:
            self.assertEqual(other._state, PENDING)
            seen = []
            self.complete_elsewhere(lambda: seen.append(other._state))  # not the holder
            self.assertEqual(seen, [PENDING])
            self.complete_elsewhere(other.set_result, 2)
            self.assertTrue(other._condition.wait(WAIT))  # a wait reads again
            self.assertEqual(other._state, FINISHED)

    def test_stress_completions_racing_the_installation(self):
        # Bare futures completed by another thread while the stdlib reads their state and appends
        # its waiter: every wait must end (a lost notification would block until the timeout).
        # The GIL changes hands often, so that completions land between the two.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        self.addCleanup(sys.setswitchinterval, interval)
        for round_ in range(200):
            futures = [Future() for _ in range(30)]
            start = threading.Event()

            def complete():
                start.wait(WAIT)
                for i, f in enumerate(futures):
                    f.set_result(i)

            thread = threading.Thread(target=complete)
            thread.start()
            start.set()
            if round_ % 2:
                done, not_done = std_wait(futures, timeout=WAIT)
                self.assertEqual(not_done, set(), "round %d" % round_)
            else:
                self.assertEqual(len(list(std_as_completed(futures, timeout=WAIT))), 30, "round %d" % round_)
            thread.join(WAIT)


if __name__ == "__main__":
    unittest.main()
