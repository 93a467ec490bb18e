"""as_completed() on the .NET engine: completion order, each future once, timeouts, no references."""
import concurrent.futures as std
import gc
import threading
import time
import unittest
import weakref

from cs_futures import Future, ThreadPoolExecutor, TimeoutError, as_completed

from .support import WAIT, completed


def assert_forgets_yielded(test, futures):
    """Iterate *futures*, three done ones then a pending cs_futures one, of which the caller keeps no
    other reference: each done future, dropped as soon as it is yielded, must be collectable while the
    iteration goes on; the pending one comes last, once it completes."""
    last = futures[-1]
    iterator = as_completed(futures, timeout=WAIT)
    refs = []
    for _ in range(3):
        future = next(iterator)
        futures.remove(future)
        refs.append(weakref.ref(future))
        del future
    gc.collect()
    test.assertEqual([r() for r in refs], [None] * 3, "as_completed kept yielded futures alive")
    last.set_result(9)
    test.assertIs(next(iterator), last)
    with test.assertRaises(StopIteration):
        next(iterator)


class AsCompletedTests(unittest.TestCase):
    def test_done_first_then_in_completion_order(self):
        first, a, b, c = completed(0), Future(), Future(), Future()
        order = []
        for future in as_completed([a, b, c, first], timeout=WAIT):
            order.append(future)
            # Complete the others only as the loop goes: the order is decided here.
            if len(order) == 1:
                c.set_result(3)
            elif len(order) == 2:
                a.set_exception(OSError())
            elif len(order) == 3:
                b.cancel()
                b.set_running_or_notify_cancel()
        self.assertEqual(order, [first, c, a, b])

    def test_completion_order_of_tasks(self):
        gates = [threading.Event() for _ in range(3)]
        with ThreadPoolExecutor(3) as executor:
            futures = [executor.submit(gate.wait, WAIT) for gate in gates]
            order = []
            gates[2].set()
            for future in as_completed(futures, timeout=WAIT):
                order.append(futures.index(future))
                if len(order) == 1:
                    gates[0].set()
                elif len(order) == 2:
                    gates[1].set()
        self.assertEqual(order, [2, 0, 1])

    def test_each_future_once_even_when_duplicated(self):
        a, b = completed(1), Future()
        seen = []
        for future in as_completed([a, b, a, b, a], timeout=WAIT):
            seen.append(future)
            if future is a:
                b.set_result(2)
        self.assertEqual(seen, [a, b])

    def test_each_future_once_with_an_executor(self):
        with ThreadPoolExecutor(4) as executor:
            futures = [executor.submit(pow, 2, i) for i in range(100)]
            seen = list(as_completed(futures + futures[:10], timeout=WAIT))
        self.assertEqual(len(seen), 100)
        self.assertEqual(set(seen), set(futures))
        self.assertEqual(sorted(f.result() for f in seen), [2 ** i for i in range(100)])

    def test_timeout_message(self):
        running = Future()
        running.set_running_or_notify_cancel()
        cancelled = Future()
        cancelled.cancel()
        cancelled.set_running_or_notify_cancel()
        futures = [cancelled, Future(), running, completed(1), completed(exception=OSError())]
        seen = []
        with self.assertRaises(TimeoutError) as caught:
            for future in as_completed(futures, timeout=0.1):
                seen.append(future)
        self.assertEqual(str(caught.exception), "2 (of 5) futures unfinished")
        self.assertEqual(set(seen), set(futures[:1] + futures[3:]))

    def test_timeout_is_for_the_whole_iteration(self):
        pending = Future()
        start = time.monotonic()
        with self.assertRaisesRegex(TimeoutError, r"^1 \(of 2\) futures unfinished$"):
            list(as_completed([completed(1), pending], timeout=0.2))
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.19)
        self.assertLess(elapsed, WAIT)

    def test_timeout_counts_distinct_futures(self):
        pending = Future()
        with self.assertRaisesRegex(TimeoutError, r"^1 \(of 1\) futures unfinished$"):
            list(as_completed([pending, pending], timeout=0))

    def test_empty(self):
        self.assertEqual(list(as_completed([], timeout=0)), [])

    def test_keeps_no_reference_to_yielded_futures(self):
        assert_forgets_yielded(self, [completed(i) for i in range(3)] + [Future()])


class MixedAsCompletedTests(unittest.TestCase):
    """Standard-library futures iterated together with cs_futures ones."""

    def test_done_first_then_in_completion_order_yielding_the_futures_given(self):
        done_theirs, theirs, ours = std.Future(), std.Future(), Future()
        done_theirs.set_result(0)
        iterator = as_completed([theirs, ours, done_theirs, theirs], timeout=WAIT)
        self.assertIs(next(iterator), done_theirs)
        theirs.set_result(1)
        self.assertIs(next(iterator), theirs)
        self.assertEqual(theirs._waiters, [], "a yielded future's relay is removed at once")
        ours.set_result(2)
        self.assertIs(next(iterator), ours)
        self.assertRaises(StopIteration, next, iterator)

    def test_keeps_no_reference_to_yielded_futures(self):
        theirs = [std.Future() for _ in range(2)]
        for i in range(2):
            theirs[i].set_result(i)
        futures = theirs + [completed(2), Future()]
        del theirs
        assert_forgets_yielded(self, futures)

    def test_with_both_executors(self):
        with std.ThreadPoolExecutor(2) as theirs, ThreadPoolExecutor(2) as ours:
            fs = [theirs.submit(pow, i, 2) for i in range(20)] + [ours.submit(pow, i, 3) for i in range(20)]
            self.assertEqual(set(as_completed(fs, timeout=WAIT)), set(fs))

    def test_timeout_message_counts_both_kinds(self):
        theirs, ours, done = std.Future(), Future(), completed(1)
        iterator = as_completed([theirs, ours, done], timeout=0.01)
        self.assertIs(next(iterator), done)
        with self.assertRaises(TimeoutError) as caught:
            next(iterator)
        self.assertEqual(str(caught.exception), "2 (of 3) futures unfinished")
        self.assertEqual(theirs._waiters, [], "the relays are removed when the iteration ends")

    def test_closing_the_iteration_removes_the_relays(self):
        theirs, done = std.Future(), completed(1)
        iterator = as_completed([theirs, done])
        next(iterator)
        self.assertEqual(len(theirs._waiters), 1)
        iterator.close()
        self.assertEqual(theirs._waiters, [])


if __name__ == "__main__":
    unittest.main()
