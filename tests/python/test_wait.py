"""wait() on the .NET engine: CPython's return conditions, timeouts and duplicates."""
import concurrent.futures as std
import threading
import time
import unittest

from cs_futures import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor,
                        wait)

from .support import WAIT, completed


def cancelled_and_notified():
    future = Future()
    future.cancel()
    future.set_running_or_notify_cancel()
    return future


def running():
    future = Future()
    future.set_running_or_notify_cancel()
    return future


class WaitTests(unittest.TestCase):
    def test_result_is_a_named_tuple_of_sets(self):
        ok = completed(1)
        result = wait([ok], timeout=WAIT)
        self.assertIsInstance(result, std._base.DoneAndNotDoneFutures)
        self.assertEqual(result.done, {ok})
        self.assertEqual(result.not_done, set())
        self.assertIsInstance(result.not_done, set)

    def test_first_completed_returns_at_once_with_a_done_future(self):
        ok, pending = completed(1), Future()
        start = time.monotonic()
        result = wait([ok, pending], timeout=WAIT, return_when=FIRST_COMPLETED)
        self.assertLess(time.monotonic() - start, WAIT / 2)
        self.assertEqual((result.done, result.not_done), ({ok}, {pending}))

    def test_first_completed_wakes_when_a_task_finishes(self):
        gate = threading.Event()
        with ThreadPoolExecutor(2) as executor:
            slow = executor.submit(gate.wait, WAIT)
            fast_gate = threading.Event()
            fast = executor.submit(fast_gate.wait, WAIT)
            threading.Thread(target=fast_gate.set).start()
            result = wait([slow, fast], timeout=WAIT, return_when=FIRST_COMPLETED)
            self.assertEqual((result.done, result.not_done), ({fast}, {slow}))
            gate.set()

    def test_first_completed_counts_cancelled_futures(self):
        cancelled, pending = cancelled_and_notified(), Future()
        result = wait([cancelled, pending], timeout=WAIT, return_when=FIRST_COMPLETED)
        self.assertEqual((result.done, result.not_done), ({cancelled}, {pending}))

    def test_first_exception_returns_when_one_raised(self):
        ok, failed, pending = completed(1), completed(exception=OSError()), Future()
        start = time.monotonic()
        result = wait([ok, failed, pending], timeout=WAIT, return_when=FIRST_EXCEPTION)
        self.assertLess(time.monotonic() - start, WAIT / 2)
        self.assertEqual((result.done, result.not_done), ({ok, failed}, {pending}))

    def test_first_exception_wakes_when_a_task_raises(self):
        gate = threading.Event()
        with ThreadPoolExecutor(3) as executor:
            blocked = executor.submit(gate.wait, WAIT)
            failed = executor.submit(divmod, 1, 0)
            result = wait([blocked, failed], timeout=WAIT, return_when=FIRST_EXCEPTION)
            self.assertEqual((result.done, result.not_done), ({failed}, {blocked}))
            gate.set()

    def test_first_exception_without_exceptions_waits_for_all(self):
        ok, pending = completed(1), running()
        start = time.monotonic()
        result = wait([ok, pending], timeout=0.2, return_when=FIRST_EXCEPTION)
        self.assertGreaterEqual(time.monotonic() - start, 0.19, "a result is not an exception")
        self.assertEqual((result.done, result.not_done), ({ok}, {pending}))
        both = wait([ok, completed(2)], timeout=WAIT, return_when=FIRST_EXCEPTION)
        self.assertEqual(len(both.done), 2)

    def test_first_exception_ignores_cancelled_futures(self):
        cancelled, pending = cancelled_and_notified(), running()
        result = wait([cancelled, pending], timeout=0.1, return_when=FIRST_EXCEPTION)
        self.assertEqual((result.done, result.not_done), ({cancelled}, {pending}))

    def test_all_completed(self):
        futures = [Future() for _ in range(5)]

        def finish():
            for i, future in enumerate(futures):
                future.set_result(i)

        thread = threading.Thread(target=finish)
        thread.start()
        result = wait(futures, timeout=WAIT, return_when=ALL_COMPLETED)
        thread.join(WAIT)
        self.assertEqual((result.done, result.not_done), (set(futures), set()))

    def test_all_completed_is_the_default(self):
        with ThreadPoolExecutor(4) as executor:
            futures = [executor.submit(pow, 2, i) for i in range(40)]
            result = wait(futures, timeout=WAIT)
        self.assertEqual(result.done, set(futures))
        self.assertEqual(result.not_done, set())

    def test_timeout_returns_the_not_done(self):
        ok, failed, pending, run = completed(1), completed(exception=KeyError()), Future(), running()
        start = time.monotonic()
        result = wait([ok, failed, pending, run], timeout=0.2)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.19)
        self.assertLess(elapsed, WAIT)
        self.assertEqual((result.done, result.not_done), ({ok, failed}, {pending, run}))

    def test_zero_timeout_does_not_block(self):
        pending = Future()
        for return_when in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
            with self.subTest(return_when=return_when):
                result = wait([pending], timeout=0, return_when=return_when)
                self.assertEqual((result.done, result.not_done), (set(), {pending}))

    def test_duplicates_are_returned_once(self):
        a, b = completed(1), Future()
        threading.Thread(target=b.set_result, args=(2,)).start()
        result = wait([a, b, a, b, b], timeout=WAIT)
        self.assertEqual(result.done, {a, b})
        self.assertEqual(len(result.done), 2)
        self.assertEqual(result.not_done, set())
        pending = Future()
        result = wait([a, pending, pending], timeout=0.05)
        self.assertEqual((result.done, result.not_done), ({a}, {pending}))

    def test_empty(self):
        result = wait([], timeout=WAIT)
        self.assertEqual((result.done, result.not_done), (set(), set()))

    def test_accepts_any_iterable(self):
        a, b = completed(1), completed(2)
        self.assertEqual(wait(iter([a, b]), timeout=WAIT).done, {a, b})
        self.assertEqual(wait({a: 0, b: 1}, timeout=WAIT).done, {a, b})

    def test_stdlib_futures_are_waited_too(self):
        with std.ThreadPoolExecutor(1) as executor:
            theirs = executor.submit(int)
            self.assertEqual(wait([theirs], timeout=WAIT).done, {theirs})


class MixedWaitTests(unittest.TestCase):
    """Standard-library futures waited on together with cs_futures ones, as CPython's wait() takes
    futures of any executor."""

    def test_all_completed_gives_back_the_futures_given(self):
        with std.ThreadPoolExecutor(1) as theirs, ThreadPoolExecutor(1) as ours:
            a, b = theirs.submit(pow, 2, 3), ours.submit(pow, 3, 2)
            result = wait([a, b, a], timeout=WAIT)
            self.assertEqual((result.done, result.not_done), ({a, b}, set()))
            self.assertEqual((a.result(), b.result()), (8, 9))

    def test_first_completed_wakes_for_a_stdlib_future(self):
        theirs, ours = std.Future(), Future()
        threading.Thread(target=theirs.set_result, args=(1,)).start()
        result = wait([theirs, ours], timeout=WAIT, return_when=FIRST_COMPLETED)
        self.assertEqual((result.done, result.not_done), ({theirs}, {ours}))
        self.assertEqual(theirs._waiters, [], "the relay is removed when the wait ends")

    def test_first_exception_of_a_stdlib_future(self):
        theirs, ours = std.Future(), Future()
        error = ValueError("theirs")
        threading.Thread(target=theirs.set_exception, args=(error,)).start()
        result = wait([ours, theirs], timeout=WAIT, return_when=FIRST_EXCEPTION)
        self.assertEqual(result.done, {theirs})
        self.assertIs(theirs.exception(), error)

    def test_cancelled_counts_once_notified(self):
        theirs, ours = std.Future(), completed(1)
        theirs.cancel()
        result = wait([theirs, ours], timeout=0)
        self.assertEqual(result.not_done, {theirs}, "cancelled but not notified: not done (CPython)")
        theirs.set_running_or_notify_cancel()
        self.assertEqual(wait([theirs, ours], timeout=0).done, {theirs, ours})

    def test_timeout_leaves_the_pending_ones_not_done_and_no_relay(self):
        theirs, ours = std.Future(), completed(1)
        result = wait([theirs, ours], timeout=0.01)
        self.assertEqual((result.done, result.not_done), ({ours}, {theirs}))
        self.assertEqual(theirs._waiters, [])
        theirs.set_result(2)  # nothing listens any more

    def test_an_object_that_is_no_future_is_refused(self):
        with self.assertRaisesRegex(TypeError, "take futures, not 'int'"):
            wait([Future(), 3], timeout=0)


if __name__ == "__main__":
    unittest.main()
