"""ThreadPoolExecutor on .NET worker threads."""
import asyncio
import logging
import os
import threading
import traceback
import unittest

import cs_futures
from cs_futures import BrokenExecutor, ThreadPoolExecutor
from cs_futures.thread import BrokenThreadPool

from .support import TIMEOUT

RAISED = ValueError("raised in a task")


def raise_stored():
    raise RAISED


class ThreadPoolTests(unittest.TestCase):
    def test_max_workers_validation_and_default(self):
        with self.assertRaisesRegex(ValueError, "^max_workers must be greater than 0$"):
            ThreadPoolExecutor(0)
        with self.assertRaisesRegex(TypeError, "^initializer must be a callable$"):
            ThreadPoolExecutor(1, initializer=5)
        count = getattr(os, "process_cpu_count", os.cpu_count)()
        executor = ThreadPoolExecutor()
        self.assertEqual(executor._max_workers, min(32, count + 4))
        executor.shutdown()

    def test_results_and_same_exception_object_with_traceback(self):
        with ThreadPoolExecutor(2) as executor:
            self.assertEqual(executor.submit(pow, 2, 10).result(timeout=TIMEOUT), 1024)
            self.assertEqual(executor.submit(dict, a=1).result(timeout=TIMEOUT), {"a": 1})
            future = executor.submit(raise_stored)
            try:
                future.result(timeout=TIMEOUT)
            except ValueError as exc:
                caught, frames = exc, [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
            else:
                self.fail("result() did not raise")
        self.assertIs(caught, RAISED)
        self.assertIs(future.exception(), RAISED)
        self.assertIn("raise_stored", frames, "the traceback reaches into the task")

    def test_thread_names_inside_tasks_and_in_logs(self):
        with ThreadPoolExecutor(1, thread_name_prefix="Special") as executor:
            self.assertEqual(executor.submit(lambda: threading.current_thread().name).result(TIMEOUT), "Special_0")
            logger = logging.getLogger("cs_futures.tests.names")
            handler_records = []

            class Collect(logging.Handler):
                def emit(self, record):
                    handler_records.append(self.format(record))

            handler = Collect()
            handler.setFormatter(logging.Formatter("%(threadName)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            try:
                executor.submit(logger.info, "hello").result(TIMEOUT)
            finally:
                logger.removeHandler(handler)
            self.assertEqual(handler_records, ["Special_0 hello"])
        with ThreadPoolExecutor(1) as executor:
            self.assertRegex(executor.submit(lambda: threading.current_thread().name).result(TIMEOUT),
                             r"^ThreadPoolExecutor-\d+_0$")
            self.assertEqual([t.name for t in executor._threads], [executor._thread_name_prefix + "_0"])

    def test_initializer_runs_once_per_thread(self):
        seen = []
        lock = threading.Lock()

        def init(tag):
            with lock:
                seen.append((tag, threading.current_thread().name))

        with ThreadPoolExecutor(2, thread_name_prefix="init", initializer=init, initargs=("x",)) as executor:
            list(executor.map(lambda _: threading.current_thread().name, range(20)))
        names = [name for _, name in seen]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(tag == "x" for tag, _ in seen))

    def test_failing_initializer_breaks_the_pool(self):
        gate = threading.Event()

        def init():
            gate.wait(TIMEOUT)
            raise RuntimeError("init failed")

        executor = ThreadPoolExecutor(1, initializer=init)
        with self.assertLogs("concurrent.futures", level="CRITICAL") as logs:
            futures = [executor.submit(int) for _ in range(3)]
            gate.set()
            for future in futures:
                with self.assertRaises(BrokenThreadPool):
                    future.result(timeout=TIMEOUT)
        self.assertIn("Exception in initializer:", logs.output[0])
        self.assertTrue(executor._broken)
        with self.assertRaises(BrokenExecutor):
            executor.submit(int)
        executor.shutdown()

    def test_submit_after_shutdown(self):
        executor = ThreadPoolExecutor(1)
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, "^cannot schedule new futures after shutdown$"):
            executor.submit(int)

    def test_shutdown_cancel_futures(self):
        gate = threading.Event()
        executor = ThreadPoolExecutor(1)
        first = executor.submit(gate.wait, TIMEOUT)
        rest = [executor.submit(int) for _ in range(10)]
        executor.shutdown(wait=False, cancel_futures=True)
        gate.set()
        executor.shutdown(wait=True)
        self.assertTrue(first.result())
        self.assertGreaterEqual(sum(f.cancelled() for f in rest), 9)

    def test_map_order_timeout_and_early_close(self):
        with ThreadPoolExecutor(4) as executor:
            self.assertEqual(list(executor.map(abs, range(-50, 50))), [abs(i) for i in range(-50, 50)])
            self.assertEqual(list(executor.map(pow, [2, 3], [3, 2])), [8, 9])
        gate = threading.Event()
        ran = []
        with ThreadPoolExecutor(1) as executor:
            executor.submit(gate.wait, TIMEOUT)
            results = executor.map(ran.append, range(5), timeout=0)
            with self.assertRaises(cs_futures.TimeoutError):
                next(results)
            results.close()
            gate.set()
        self.assertEqual(ran, [], "the work not taken was cancelled")

    def test_map_buffersize_bounds_work_in_flight(self):
        produced = []

        def source():
            for i in range(20):
                produced.append(i)
                yield i

        with ThreadPoolExecutor(2) as executor:
            for taken, value in enumerate(executor.map(int, source(), buffersize=3), 1):
                self.assertEqual(value, taken - 1)
                self.assertLessEqual(len(produced) - taken, 3)
            with self.assertRaises(ValueError):
                executor.map(int, [], buffersize=0)

    def test_gil_is_released_while_waiting(self):
        progressed = threading.Event()
        with ThreadPoolExecutor(1) as executor:
            # The task waits for a Python thread; that thread can only run if result() releases the GIL.
            future = executor.submit(progressed.wait, TIMEOUT)
            threading.Thread(target=progressed.set).start()
            self.assertTrue(future.result(timeout=TIMEOUT))

    def test_asyncio_integration(self):
        async def main(executor):
            loop = asyncio.get_running_loop()
            a = await loop.run_in_executor(executor, pow, 2, 5)
            b = await asyncio.wrap_future(executor.submit(pow, 3, 2))
            return a, b

        with ThreadPoolExecutor(2) as executor:
            self.assertEqual(asyncio.run(main(executor)), (32, 9))

    def test_dotnet_callables_run_on_the_pool(self):
        cs_futures.enable_clr()
        import System
        with ThreadPoolExecutor(2) as executor:
            sqrt = System.Func[float, float](System.Math.Sqrt)
            self.assertEqual(executor.submit(sqrt, 16.0).result(timeout=TIMEOUT), 4.0)
            parse = System.Func[str, int](System.Int32.Parse)
            with self.assertRaises(Exception) as caught:
                executor.submit(parse, "x").result(timeout=TIMEOUT)
            self.assertIn("FormatException", type(caught.exception).__name__ + repr(caught.exception))


if __name__ == "__main__":
    unittest.main()
