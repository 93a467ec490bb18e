"""Future semantics, forwarded to the .NET engine."""
import logging
import threading
import unittest

from cs_futures import CancelledError, Future, InvalidStateError, TimeoutError
from cs_futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED, PENDING, RUNNING

from .support import TIMEOUT, completed




class FutureTests(unittest.TestCase):
    def test_state_transitions(self):
        future = Future()
        self.assertEqual(future._state, PENDING)
        self.assertTrue(future.set_running_or_notify_cancel())
        self.assertEqual(future._state, RUNNING)
        self.assertTrue(future.running())
        self.assertFalse(future.cancel())
        future.set_result(5)
        self.assertEqual(future._state, FINISHED)
        self.assertTrue(future.done())
        self.assertEqual(future.result(), 5)

    def test_cancel_rules(self):
        future = Future()
        self.assertTrue(future.cancel())
        self.assertEqual(future._state, CANCELLED)
        self.assertTrue(future.cancel())
        self.assertFalse(future.set_running_or_notify_cancel())
        self.assertEqual(future._state, CANCELLED_AND_NOTIFIED)
        self.assertTrue(future.cancelled())
        self.assertFalse(completed(1).cancel())
        with self.assertRaises(CancelledError):
            future.result(timeout=0)
        with self.assertRaises(CancelledError):
            future.exception(timeout=0)

    def test_set_result_twice_has_cpythons_message(self):
        future = completed(1)
        with self.assertRaisesRegex(InvalidStateError,
                                    r"^FINISHED: <Future at 0x[0-9a-f]+ state=finished returned int>$"):
            future.set_result(2)
        with self.assertRaises(InvalidStateError):
            future.set_exception(ValueError())
        self.assertEqual(future.result(), 1)

    def test_repr(self):
        running = Future()
        running.set_running_or_notify_cancel()
        cancelled = Future()
        cancelled.cancel()
        self.assertRegex(repr(Future()), r"^<Future at 0x[0-9a-f]+ state=pending>$")
        self.assertRegex(repr(running), r"^<Future at 0x[0-9a-f]+ state=running>$")
        self.assertRegex(repr(cancelled), r"^<Future at 0x[0-9a-f]+ state=cancelled>$")
        self.assertRegex(repr(completed(exception=OSError())),
                         r"^<Future at 0x[0-9a-f]+ state=finished raised OSError>$")
        self.assertRegex(repr(completed(42)), r"^<Future at 0x[0-9a-f]+ state=finished returned int>$")

    def test_timeouts(self):
        with self.assertRaises(TimeoutError):
            Future().result(timeout=0)
        with self.assertRaises(TimeoutError):
            Future().exception(timeout=0.01)

    def test_result_from_another_thread(self):
        future = Future()
        threading.Thread(target=future.set_result, args=("late",)).start()
        self.assertEqual(future.result(timeout=TIMEOUT), "late")

    def test_exception_is_the_same_object(self):
        error = ValueError("x")
        future = completed(exception=error)
        self.assertIs(future.exception(), error)
        with self.assertRaises(ValueError) as caught:
            future.result()
        self.assertIs(caught.exception, error)

    def test_callbacks_run_in_order_and_at_once_when_done(self):
        future = Future()
        seen = []
        future.add_done_callback(lambda f: seen.append(("first", f)))
        future.add_done_callback(lambda f: seen.append(("second", f)))
        self.assertEqual(seen, [])
        future.set_result(1)
        self.assertEqual(seen, [("first", future), ("second", future)])
        future.add_done_callback(lambda f: seen.append(("late", threading.get_ident())))
        self.assertEqual(seen[-1], ("late", threading.get_ident()))

    def test_callback_exception_is_logged_not_raised(self):
        future = Future()
        ran = []
        future.add_done_callback(lambda f: 1 / 0)
        future.add_done_callback(lambda f: ran.append(True))
        with self.assertLogs("concurrent.futures", level="ERROR") as logs:
            future.set_result(1)
        self.assertEqual(ran, [True])
        self.assertIn("exception calling callback for <Future", logs.output[0])
        self.assertIn("ZeroDivisionError", logs.output[0])

    def test_private_attributes_as_cpython_tests_use_them(self):
        future = Future()
        done = threading.Event()

        def finish():
            with future._condition:
                future._state = FINISHED
                future._exception = OSError("late")
                future._condition.notify_all()
            done.set()

        threading.Thread(target=finish).start()
        self.assertIsInstance(future.exception(timeout=TIMEOUT), OSError)
        self.assertTrue(done.wait(TIMEOUT))
        forced = Future()
        forced._state = FINISHED
        forced._result = 42
        self.assertEqual(forced.result(timeout=0), 42)
        self.assertEqual(forced._result, 42)


if __name__ == "__main__":
    unittest.main()
