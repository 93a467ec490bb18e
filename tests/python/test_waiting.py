"""wait() and as_completed() on the engine."""
import threading
import unittest
import weakref

from cs_futures import (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor,
                        TimeoutError, as_completed, wait)

from .support import TIMEOUT, completed




class WaitTests(unittest.TestCase):
    def test_return_when(self):
        ok, failed, pending = completed(1), completed(exception=OSError()), Future()
        result = wait([ok, pending], timeout=TIMEOUT, return_when=FIRST_COMPLETED)
        self.assertEqual(result.done, {ok})
        self.assertEqual(result.not_done, {pending})
        result = wait([ok, failed, pending], timeout=TIMEOUT, return_when=FIRST_EXCEPTION)
        self.assertEqual(result.done, {ok, failed})
        result = wait([ok, pending], timeout=0.05, return_when=ALL_COMPLETED)
        self.assertEqual((result.done, result.not_done), ({ok}, {pending}))

    def test_duplicates_and_completion_from_a_thread(self):
        future = Future()
        threading.Thread(target=future.set_result, args=(3,)).start()
        result = wait([future, future], timeout=TIMEOUT)
        self.assertEqual(result.done, {future})
        with self.assertRaises(ValueError):
            wait([future], return_when="sometimes")

    def test_stdlib_futures_are_waited_by_the_stdlib(self):
        import concurrent.futures as std
        with std.ThreadPoolExecutor(1) as executor:
            theirs = executor.submit(int)
            self.assertEqual(wait([theirs], timeout=TIMEOUT).done, {theirs})
            with self.assertRaises(TypeError):
                wait([theirs, Future()], timeout=0)


class AsCompletedTests(unittest.TestCase):
    def test_finished_first_then_in_completion_order(self):
        first, a, b = completed(0), Future(), Future()
        order = []
        for future in as_completed([a, b, first, first], timeout=TIMEOUT):
            order.append(future)
            if len(order) == 1:
                b.set_result(2)
            elif len(order) == 2:
                a.set_result(1)
        self.assertEqual(order, [first, b, a])

    def test_timeout_message(self):
        running = Future()
        running.set_running_or_notify_cancel()
        cancelled = Future()
        cancelled.cancel()
        cancelled.set_running_or_notify_cancel()
        with self.assertRaises(TimeoutError) as caught:
            list(as_completed([cancelled, Future(), running, completed(1)], timeout=0))
        self.assertEqual(str(caught.exception), "2 (of 4) futures unfinished")

    def test_keeps_no_reference_to_yielded_futures(self):
        futures = [completed(i) for i in range(3)] + [Future()]
        iterator = as_completed(futures, timeout=TIMEOUT)
        first = next(iterator)
        futures.remove(first)
        ref = weakref.ref(first)
        del first
        self.assertIsNone(ref())
        futures[-1].set_result(9)
        self.assertEqual(len(list(iterator)), 3)

    def test_with_executor(self):
        with ThreadPoolExecutor(4) as executor:
            futures = [executor.submit(pow, 2, i) for i in range(50)]
            self.assertEqual(sorted(f.result() for f in as_completed(futures, timeout=TIMEOUT)),
                             sorted(2 ** i for i in range(50)))


if __name__ == "__main__":
    unittest.main()
