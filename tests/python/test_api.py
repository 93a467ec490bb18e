"""The names, classes and exceptions are the standard library's."""
import concurrent.futures as std
import unittest
from concurrent.futures import process as std_process, thread as std_thread

import cs_futures
from cs_futures import _base, process, thread


class ApiTests(unittest.TestCase):
    def test_every_public_name_exists(self):
        for name in std.__all__:
            self.assertTrue(hasattr(cs_futures, name), name)

    def test_exceptions_and_constants_are_the_stdlib_objects(self):
        for name in ("CancelledError", "TimeoutError", "InvalidStateError", "BrokenExecutor",
                     "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"):
            self.assertIs(getattr(cs_futures, name), getattr(std, name), name)
        self.assertIs(thread.BrokenThreadPool, std_thread.BrokenThreadPool)
        self.assertIs(process.BrokenProcessPool, std_process.BrokenProcessPool)
        self.assertIs(_base.FINISHED, std._base.FINISHED)

    def test_classes_are_stdlib_subclasses(self):
        self.assertIsInstance(cs_futures.Future(), std.Future)
        self.assertTrue(issubclass(cs_futures.ThreadPoolExecutor, std.ThreadPoolExecutor))
        self.assertTrue(issubclass(cs_futures.Executor, std.Executor))
        with cs_futures.ThreadPoolExecutor(1) as executor:
            future = executor.submit(int)
            self.assertIsInstance(future, std.Future)
            self.assertEqual(future.result(), 0)

    def test_except_clauses_written_for_the_stdlib_catch_ours(self):
        future = cs_futures.Future()
        future.cancel()
        with self.assertRaises(std.CancelledError):
            future.result()


if __name__ == "__main__":
    unittest.main()
