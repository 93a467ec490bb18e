"""The public surface is the standard library's, and Future keeps CPython's semantics (on the .NET engine)."""
import concurrent.futures as std
import importlib
import logging
import re
import sys
import threading
import time
import types
import unittest
from concurrent.futures import _base as std_base, process as std_process, thread as std_thread

import cs_futures
from cs_futures import _bridge
from cs_futures import CancelledError, Future, InvalidStateError, TimeoutError
from cs_futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED, PENDING, RUNNING

from .support import WAIT, completed

ADDRESS = re.compile(r" at 0x[0-9a-f]+ ")


def same_shape(text):
    """A repr without its address."""
    return ADDRESS.sub(" at 0x? ", text)


class IdentityTests(unittest.TestCase):
    def test_exceptions_are_the_stdlib_objects(self):
        for name in ("CancelledError", "TimeoutError", "InvalidStateError", "BrokenExecutor"):
            with self.subTest(name=name):
                self.assertIs(getattr(cs_futures, name), getattr(std, name))
        self.assertIs(cs_futures.thread.BrokenThreadPool, std_thread.BrokenThreadPool)
        self.assertIs(cs_futures.process.BrokenProcessPool, std_process.BrokenProcessPool)
        self.assertIs(cs_futures._base.Error, std_base.Error)

    def test_constants_are_the_stdlib_objects(self):
        for name in ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"):
            with self.subTest(name=name):
                self.assertIs(getattr(cs_futures, name), getattr(std, name))
        for name in ("PENDING", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED", "FINISHED", "LOGGER",
                     "DoneAndNotDoneFutures"):
            with self.subTest(name=name):
                self.assertIs(getattr(cs_futures._base, name), getattr(std_base, name))

    def test_classes_are_stdlib_subclasses(self):
        self.assertIsInstance(Future(), std.Future)
        self.assertTrue(issubclass(cs_futures.ThreadPoolExecutor, std.ThreadPoolExecutor))
        self.assertTrue(issubclass(cs_futures.Executor, std.Executor))
        self.assertIs(cs_futures.ThreadPoolExecutor, cs_futures.thread.ThreadPoolExecutor)

    def test_every_stdlib_public_name_exists(self):
        missing = [name for name in std.__all__ if not hasattr(cs_futures, name)]
        self.assertEqual(missing, [])

    def test_submodules_are_importable(self):
        for name in ("cs_futures._base", "cs_futures.thread", "cs_futures.process"):
            with self.subTest(module=name):
                module = importlib.import_module(name)
                self.assertEqual(module.__name__, name)
        self.assertTrue(hasattr(importlib.import_module("cs_futures.thread"), "ThreadPoolExecutor"))
        self.assertTrue(hasattr(importlib.import_module("cs_futures.process"), "ProcessPoolExecutor"))
        self.assertTrue(hasattr(importlib.import_module("cs_futures._base"), "Future"))

    def test_except_clauses_written_for_the_stdlib_catch_ours(self):
        future = Future()
        future.cancel()
        with self.assertRaises(std.CancelledError):
            future.result(timeout=0)
        with self.assertRaises(std.TimeoutError):
            Future().result(timeout=0)


class StateTests(unittest.TestCase):
    def test_pending_running_finished_with_result(self):
        future = Future()
        self.assertEqual(future._state, PENDING)
        self.assertEqual((future.running(), future.done(), future.cancelled()), (False, False, False))
        self.assertTrue(future.set_running_or_notify_cancel())
        self.assertEqual(future._state, RUNNING)
        self.assertEqual((future.running(), future.done(), future.cancelled()), (True, False, False))
        future.set_result(5)
        self.assertEqual(future._state, FINISHED)
        self.assertEqual((future.running(), future.done(), future.cancelled()), (False, True, False))
        self.assertEqual(future.result(), 5)
        self.assertIsNone(future.exception())

    def test_pending_to_finished_with_exception(self):
        error = OSError("stored")
        future = Future()
        future.set_exception(error)
        self.assertEqual(future._state, FINISHED)
        self.assertTrue(future.done())
        self.assertIs(future.exception(), error)
        with self.assertRaises(OSError) as caught:
            future.result()
        self.assertIs(caught.exception, error)

    def test_set_running_twice_is_a_runtime_error(self):
        future = Future()
        future.set_running_or_notify_cancel()
        with self.assertRaises(RuntimeError):
            future.set_running_or_notify_cancel()
        finished = completed(1)
        with self.assertRaises(RuntimeError):
            finished.set_running_or_notify_cancel()


class CancelTests(unittest.TestCase):
    def test_pending_future_can_be_cancelled(self):
        future = Future()
        self.assertTrue(future.cancel())
        self.assertEqual(future._state, CANCELLED)
        self.assertTrue(future.cancelled())
        self.assertTrue(future.done())
        self.assertTrue(future.cancel(), "cancelling again still answers True")
        self.assertFalse(future.set_running_or_notify_cancel())
        self.assertEqual(future._state, CANCELLED_AND_NOTIFIED)
        self.assertTrue(future.cancelled())
        self.assertTrue(future.cancel())

    def test_running_and_finished_futures_cannot_be_cancelled(self):
        running = Future()
        running.set_running_or_notify_cancel()
        self.assertFalse(running.cancel())
        self.assertEqual(running._state, RUNNING)
        self.assertFalse(completed(1).cancel())
        self.assertFalse(completed(exception=ValueError()).cancel())

    def test_result_and_exception_of_a_cancelled_future_raise_cancelled_error(self):
        future = Future()
        future.cancel()
        with self.assertRaises(CancelledError):
            future.result(timeout=0)
        with self.assertRaises(CancelledError):
            future.exception(timeout=0)
        with self.assertRaises(CancelledError):
            future.result()  # no timeout: must not block on a cancelled future

    def test_cancel_wakes_a_waiting_thread(self):
        future = Future()
        outcome = []

        def waiter():
            try:
                future.result(timeout=WAIT)
            except BaseException as exc:
                outcome.append(type(exc))

        thread = threading.Thread(target=waiter)
        thread.start()
        future.cancel()
        thread.join(WAIT)
        self.assertFalse(thread.is_alive())
        self.assertEqual(outcome, [CancelledError])


class SetTwiceTests(unittest.TestCase):
    PATTERN = r"^FINISHED: <Future at 0x[0-9a-f]+ state=finished returned int>$"

    def test_set_result_twice_has_cpythons_message(self):
        future = completed(1)
        with self.assertRaisesRegex(InvalidStateError, self.PATTERN):
            future.set_result(2)
        self.assertEqual(future.result(), 1)

    def test_set_exception_after_result_has_cpythons_message(self):
        future = completed(1)
        with self.assertRaisesRegex(InvalidStateError, self.PATTERN):
            future.set_exception(ValueError())
        self.assertIsNone(future.exception())

    def test_message_names_the_future_itself(self):
        future = completed(1)
        with self.assertRaises(InvalidStateError) as caught:
            future.set_result(2)
        self.assertEqual(str(caught.exception), "FINISHED: %r" % future)

    def test_setting_a_cancelled_future_is_an_invalid_state(self):
        future = Future()
        future.cancel()
        with self.assertRaisesRegex(InvalidStateError,
                                    r"^CANCELLED: <Future at 0x[0-9a-f]+ state=cancelled>$"):
            future.set_result(1)

    def test_same_message_as_the_stdlib(self):
        ours, theirs = completed(1), std.Future()
        theirs.set_result(1)
        messages = []
        for future in (ours, theirs):
            with self.assertRaises(InvalidStateError) as caught:
                future.set_result(2)
            messages.append(same_shape(str(caught.exception)))
        self.assertEqual(messages[0], messages[1])


class CallbackTests(unittest.TestCase):
    def test_callbacks_run_in_order_with_the_future(self):
        future = Future()
        seen = []
        for tag in range(5):
            future.add_done_callback(lambda f, tag=tag: seen.append((tag, f)))
        self.assertEqual(seen, [])
        future.set_result(1)
        self.assertEqual(seen, [(tag, future) for tag in range(5)])

    def test_callback_on_a_done_future_runs_at_once_on_this_thread(self):
        future = completed(1)
        seen = []
        future.add_done_callback(lambda f: seen.append((f, threading.get_ident())))
        self.assertEqual(seen, [(future, threading.get_ident())])

    def test_callbacks_run_on_cancel(self):
        future = Future()
        seen = []
        future.add_done_callback(lambda f: seen.append(f.cancelled()))
        future.cancel()
        self.assertEqual(seen, [True])

    def test_callbacks_run_once(self):
        future = Future()
        calls = []
        future.add_done_callback(calls.append)
        future.cancel()
        future.set_running_or_notify_cancel()
        self.assertEqual(calls, [future])

    def test_exception_in_callback_is_logged_not_raised(self):
        future = Future()
        ran = []

        def broken(f):
            raise ZeroDivisionError("in callback")

        future.add_done_callback(broken)
        future.add_done_callback(lambda f: ran.append(True))
        with self.assertLogs("concurrent.futures", level="ERROR") as logs:
            future.set_result(1)  # must not raise
        self.assertEqual(ran, [True], "later callbacks still run")
        self.assertEqual(len(logs.records), 1)
        record = logs.records[0]
        self.assertEqual(record.levelno, logging.ERROR)
        self.assertRegex(record.getMessage(), r"^exception calling callback for <Future at 0x[0-9a-f]+ state=finished returned int>$")
        self.assertIs(record.exc_info[0], ZeroDivisionError)

    def test_exception_in_callback_added_when_done_is_logged_not_raised(self):
        future = completed("x")
        with self.assertLogs("concurrent.futures", level="ERROR") as logs:
            future.add_done_callback(lambda f: [][1])
        self.assertIn("exception calling callback for", logs.output[0])
        self.assertIn("IndexError", logs.output[0])


class ReprTests(unittest.TestCase):
    def test_repr_of_each_state(self):
        running = Future()
        running.set_running_or_notify_cancel()
        cancelled = Future()
        cancelled.cancel()
        notified = Future()
        notified.cancel()
        notified.set_running_or_notify_cancel()
        cases = [
            (Future(), r"^<Future at 0x[0-9a-f]+ state=pending>$"),
            (running, r"^<Future at 0x[0-9a-f]+ state=running>$"),
            (cancelled, r"^<Future at 0x[0-9a-f]+ state=cancelled>$"),
            (notified, r"^<Future at 0x[0-9a-f]+ state=cancelled>$"),
            (completed(42), r"^<Future at 0x[0-9a-f]+ state=finished returned int>$"),
            (completed("s"), r"^<Future at 0x[0-9a-f]+ state=finished returned str>$"),
            (completed(None), r"^<Future at 0x[0-9a-f]+ state=finished returned NoneType>$"),
            (completed(exception=OSError()), r"^<Future at 0x[0-9a-f]+ state=finished raised OSError>$"),
        ]
        for future, pattern in cases:
            with self.subTest(pattern=pattern):
                self.assertRegex(repr(future), pattern)

    def test_repr_has_the_objects_address(self):
        future = Future()
        self.assertIn("at %#x " % id(future), repr(future))

    def test_repr_matches_the_stdlib(self):
        def build(cls, state):
            future = cls()
            if state == "running":
                future.set_running_or_notify_cancel()
            elif state == "cancelled":
                future.cancel()
            elif state == "result":
                future.set_result([1])
            elif state == "raised":
                future.set_exception(KeyError("k"))
            return future

        for state in ("pending", "running", "cancelled", "result", "raised"):
            with self.subTest(state=state):
                self.assertEqual(same_shape(repr(build(Future, state))),
                                 same_shape(repr(build(std.Future, state))))

    def test_subclass_name_in_repr(self):
        class MyFuture(Future):
            pass

        self.assertRegex(repr(MyFuture()), r"^<MyFuture at 0x[0-9a-f]+ state=pending>$")


class TimeoutTests(unittest.TestCase):
    def test_result_times_out_after_the_timeout(self):
        future = Future()
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            future.result(timeout=0.2)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.19)
        self.assertLess(elapsed, WAIT)

    def test_exception_times_out_after_the_timeout(self):
        future = Future()
        future.set_running_or_notify_cancel()
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            future.exception(timeout=0.2)
        self.assertGreaterEqual(time.monotonic() - start, 0.19)

    def test_zero_and_negative_timeouts_do_not_block(self):
        for timeout in (0, -1):
            with self.subTest(timeout=timeout):
                with self.assertRaises(TimeoutError):
                    Future().result(timeout=timeout)
                with self.assertRaises(TimeoutError):
                    Future().exception(timeout=timeout)
        self.assertEqual(completed(3).result(timeout=0), 3)
        self.assertIsNone(completed(3).exception(timeout=-1))

    def test_result_set_by_another_thread_wakes_the_waiter(self):
        future = Future()
        ready = threading.Event()

        def finish():
            ready.wait(WAIT)
            future.set_result("late")

        thread = threading.Thread(target=finish)
        thread.start()
        ready.set()
        self.assertEqual(future.result(timeout=WAIT), "late")
        thread.join(WAIT)

    def test_exception_set_by_another_thread_wakes_the_waiter(self):
        future = Future()
        error = KeyError("late")
        thread = threading.Thread(target=future.set_exception, args=(error,))
        thread.start()
        self.assertIs(future.exception(timeout=WAIT), error)
        thread.join(WAIT)

    def test_many_waiters_are_all_woken(self):
        future = Future()
        barrier = threading.Barrier(5, timeout=WAIT)
        results = []

        def waiter():
            barrier.wait()
            results.append(future.result(timeout=WAIT))

        threads = [threading.Thread(target=waiter) for _ in range(4)]
        for thread in threads:
            thread.start()
        barrier.wait()
        future.set_result(7)
        for thread in threads:
            thread.join(WAIT)
        self.assertEqual(results, [7] * 4)


class ExceptionObjectTests(unittest.TestCase):
    def test_set_exception_object_comes_back_identical(self):
        error = ValueError("x")
        future = completed(exception=error)
        self.assertIs(future.exception(), error)
        for _ in range(2):  # each result() raises the same object again
            with self.assertRaises(ValueError) as caught:
                future.result()
            self.assertIs(caught.exception, error)


class PrivateAttributeTests(unittest.TestCase):
    """CPython's own tests (and some libraries) drive a future through _condition, _state, _result."""

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
        self.assertIsInstance(future.exception(timeout=WAIT), OSError)
        self.assertTrue(done.wait(WAIT))
        forced = Future()
        forced._state = FINISHED
        forced._result = 42
        self.assertEqual(forced.result(timeout=0), 42)
        self.assertEqual(forced._result, 42)


class EngineMethodTests(unittest.TestCase):
    """done(), running(), cancelled(), and result()/exception() of a finished future are C methods
    of the engine's FutureBase (no Python frame); every other case is CPython's, with its messages."""

    def finished(self, value):
        future = Future()
        future.set_result(value)
        return future

    def test_the_state_queries_and_outcomes_are_the_engines_c_methods(self):
        self.assertIs(Future.__mro__[1], _bridge.FutureBase)
        self.assertIn(std.Future, Future.__mro__)
        for name in ("done", "running", "cancelled", "cancel", "result", "exception"):
            self.assertIsInstance(getattr(Future, name), types.MethodDescriptorType, name)

    def test_cancel_answers_as_cpythons_in_every_state(self):
        # A done future answers in C; a pending one is cancelled by the Python method, which
        # notifies waiters and runs the callbacks; a running one cannot be cancelled.
        finished, cancelled, pending, running = self.finished(1), Future(), Future(), Future()
        cancelled.cancel()
        running.set_running_or_notify_cancel()
        seen = []
        pending.add_done_callback(seen.append)
        self.assertEqual([f.cancel() for f in (finished, cancelled, pending, running)], [False, True, True, False])
        self.assertEqual(seen, [pending])
        self.assertTrue(pending.cancelled() and cancelled.cancelled())
        self.assertEqual(finished.result(), 1)
        self.assertFalse(running.done())
        for future in (finished, cancelled, pending):
            self.assertEqual(future.cancel(), future.cancelled(), "a second cancel() answers the same")
        with cancelled._condition:  # Python code that reached for the lock: the Python method answers
            self.assertTrue(cancelled.cancel())

    def test_result_and_exception_take_the_timeout_as_cpythons(self):
        value = object()
        future = self.finished(value)
        for call in (future.result, future.exception):
            expected = value if call == future.result else None
            self.assertIs(call(), expected)
            self.assertIs(call(5), expected)
            self.assertIs(call(None), expected)
            self.assertIs(call(timeout=5), expected)

    def test_bad_arguments_get_cpythons_messages(self):
        ours, theirs = self.finished(1), std.Future()
        theirs.set_result(1)
        for name in ("result", "exception"):
            for args, kwargs in (((1, 2), {}), ((), {"bogus": 1}), ((1,), {"timeout": 1})):
                with self.assertRaises(TypeError) as expected:
                    getattr(theirs, name)(*args, **kwargs)
                with self.assertRaisesRegex(TypeError, "^%s$" % re.escape(str(expected.exception))):
                    getattr(ours, name)(*args, **kwargs)

    def test_outcomes_keep_their_reference_counts(self):
        # The C methods return new references: one missing or extra shows here.
        value, error = object(), ValueError("kept")
        future, failed = self.finished(value), Future()
        failed.set_exception(error)
        counts = sys.getrefcount(value), sys.getrefcount(error)
        for _ in range(1000):
            future.result()
            failed.exception()
            future.exception()
        self.assertEqual((sys.getrefcount(value), sys.getrefcount(error)), counts)

    def test_the_slow_cases_raise_as_cpython(self):
        pending = Future()
        with self.assertRaises(TimeoutError):
            pending.result(timeout=0)
        with self.assertRaises(TimeoutError):
            pending.exception(0)
        pending.cancel()
        with self.assertRaises(CancelledError):
            pending.result()
        failed = Future()
        failed.set_exception(KeyError("k"))
        with self.assertRaisesRegex(KeyError, "k"):
            failed.result(timeout=0)
        self.assertFalse(failed.running() or failed.cancelled())

    def test_a_subclass_can_still_override_them(self):
        class Mine(Future):
            def done(self):
                return "mine"

            def result(self, timeout=None):
                return ("mine", super().result(timeout))

        future = Mine()
        future.set_result(3)
        self.assertEqual((future.done(), future.result()), ("mine", ("mine", 3)))


if __name__ == "__main__":
    unittest.main()
