"""The bridge to .NET: no .NET exception crosses into native code (a bad handle is a Python
exception, never an abort), copies and pickling of futures and executors behave as the standard
library's, and the contract with .NET is by name (entry points, selectors, messages)."""
import concurrent.futures as std
import copy
import gc
import pickle
import re
import threading
import types
import unittest

import cs_futures
from cs_futures import _base, _bridge

from .support import WAIT, run_python


def _outcome(fn, *args):
    """(exception type, message) raised by fn(*args), or ('ok', None); addresses in the message
    (3.14 names a local function with its address) are replaced by 0x..."""
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return type(exc), re.sub(r"0x[0-9a-f]+", "0x...", str(exc))
    return "ok", None


class CopyTests(unittest.TestCase):
    """copy.copy, copy.deepcopy and pickle, side by side with the standard library."""

    def test_copy_of_a_future_survives_the_original(self):
        # Before: copy.copy shared the handle; dropping the original freed it and g.done() aborted
        # the interpreter (NullReferenceException in .NET, exit 134).
        script = ("import copy, gc, cs_futures\n"
                  "f = cs_futures.Future()\n"
                  "g = copy.copy(f)\n"
                  "del f; gc.collect()\n"
                  "print(g.done(), g.running(), g.cancel(), g.done())\n")
        result = run_python("-c", script)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split(), ["False", "False", "True", "True"])

    def test_copy_of_a_done_future_has_the_result_as_the_stdlib(self):
        for module in (std, cs_futures):
            with self.subTest(module=module.__name__):
                original = module.Future()
                value = object()
                original.set_result(value)
                clone = copy.copy(original)
                del original
                gc.collect()
                self.assertIsInstance(clone, module.Future)
                self.assertTrue(clone.done())
                self.assertIs(clone.result(timeout=0), value)

    def test_copy_of_a_pending_future_sees_its_completion(self):
        original = cs_futures.Future()
        clone = copy.copy(original)
        self.assertIsNot(clone, original)
        self.assertNotEqual(clone._h, original._h)
        original.set_result(5)
        self.assertEqual(clone.result(timeout=WAIT), 5)
        del original
        gc.collect()
        self.assertEqual(clone.result(timeout=0), 5)

    def test_copies_in_wait_and_as_completed_count_separately(self):
        original = cs_futures.Future()
        clone = copy.copy(original)
        original.set_result(1)
        done, not_done = cs_futures.wait([original, clone], timeout=WAIT)
        self.assertEqual(done, {original, clone})
        self.assertEqual(not_done, set())
        yielded = list(cs_futures.as_completed([original, clone], timeout=WAIT))
        self.assertEqual(len(yielded), 2)
        self.assertEqual(set(map(id, yielded)), {id(original), id(clone)})

    def test_deepcopy_and_pickle_of_a_future_raise_as_the_stdlib(self):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(protocol=protocol):
                self.assertEqual(_outcome(pickle.dumps, cs_futures.Future(), protocol),
                                 _outcome(pickle.dumps, std.Future(), protocol))
        expected = _outcome(copy.deepcopy, std.Future())
        self.assertIs(expected[0], TypeError)
        self.assertEqual(_outcome(copy.deepcopy, cs_futures.Future()), expected)
        done = cs_futures.Future()
        done.set_result(1)
        self.assertEqual(_outcome(copy.deepcopy, done), expected)

    def test_thread_pool_copies_and_pickles_as_the_stdlib(self):
        with std.ThreadPoolExecutor(1) as std_pool, cs_futures.ThreadPoolExecutor(1) as pool:
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                with self.subTest(protocol=protocol):
                    self.assertEqual(_outcome(pickle.dumps, pool, protocol),
                                     _outcome(pickle.dumps, std_pool, protocol))
            self.assertEqual(_outcome(copy.deepcopy, pool), _outcome(copy.deepcopy, std_pool))
            clone = copy.copy(pool)
            self.assertIsInstance(clone, cs_futures.ThreadPoolExecutor)
            self.assertEqual(clone._max_workers, pool._max_workers)
            self.assertEqual(clone.submit(pow, 2, 5).result(timeout=WAIT), 32)
            del clone
            gc.collect()
            # Dropping the copy leaves the pool working, as with the standard library.
            self.assertFalse(pool._shutdown)
            self.assertEqual(pool.submit(pow, 2, 6).result(timeout=WAIT), 64)

    def test_thread_pool_copy_survives_the_original(self):
        pool = cs_futures.ThreadPoolExecutor(1)
        clone = copy.copy(pool)
        del pool
        gc.collect()
        # The original's finalizer shut the pool down (CPython's workers exit too): a clear
        # RuntimeError, not a crash.
        self.assertTrue(clone._shutdown)
        with self.assertRaisesRegex(RuntimeError, "cannot schedule new futures after shutdown"):
            clone.submit(pow, 2, 2)
        clone.shutdown(wait=True)

    def test_process_pool_copies_and_pickles_as_the_stdlib(self):
        std_pool = std.ProcessPoolExecutor(1)
        pool = cs_futures.ProcessPoolExecutor(1)
        try:
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                with self.subTest(protocol=protocol):
                    self.assertEqual(_outcome(pickle.dumps, pool, protocol),
                                     _outcome(pickle.dumps, std_pool, protocol))
            self.assertEqual(_outcome(copy.deepcopy, pool), _outcome(copy.deepcopy, std_pool))
            self.assertEqual(pool.submit(pow, 3, 1).result(timeout=WAIT), 3)
            clone = copy.copy(pool)
            self.assertIsInstance(clone, cs_futures.ProcessPoolExecutor)
            self.assertIs(clone._pool, pool._pool)  # the same workers
            self.assertEqual(clone.submit(pow, 3, 2).result(timeout=WAIT), 9)
            del clone
            gc.collect()
            self.assertEqual(pool.submit(pow, 3, 3).result(timeout=WAIT), 27)
        finally:
            pool.shutdown()
            std_pool.shutdown()


class BadHandleTests(unittest.TestCase):
    """A freed or foreign handle raises a Python exception; the process survives."""

    def freed_handle(self):
        handle = _bridge.future_new()
        _bridge.handle_free(handle, 0)
        return handle

    def test_py_entries_raise_runtime_error(self):
        handle = self.freed_handle()
        for name, call in [
            ("future_state", lambda: _bridge.future_state(handle)),
            ("future_outcome", lambda: _bridge.future_outcome(handle, _bridge.Outcome.Result)),
            ("future_cancel", lambda: _bridge.future_cancel(handle)),
            ("future_notify_all", lambda: _bridge.future_notify_all(handle)),
            ("future_add_waiter", lambda: _bridge.future_add_waiter(handle, print)),
            ("future_remove_waiter", lambda: _bridge.future_remove_waiter(handle, handle)),
            ("handle_free", lambda: _bridge.handle_free(handle, 1)),
            ("handle_copy", lambda: _bridge.handle_copy(handle)),
            ("executor_info", lambda: _bridge.executor_info(handle, _bridge.ExecutorInfo.MaxWorkers)),
            ("executor_submit", lambda: _bridge.executor_submit(handle, pow, (2, 3), None)),
        ]:
            with self.subTest(entry=name):
                with self.assertRaisesRegex(RuntimeError, "does not refer to a live .NET object"):
                    call()

    def test_wait_entries_raise_through_the_slice_helper(self):
        handle = self.freed_handle()
        for entry, args in [(_bridge.future_wait, (handle,)), (_bridge.thread_join, (handle,)),
                            (_bridge.executor_join, (handle,)), (_bridge.cursor_next, (handle,))]:
            with self.subTest(entry=entry):
                self.assertEqual(entry(*args, 0.0), _bridge.Code.Failed)  # the documented code
                with self.assertRaisesRegex(RuntimeError, "does not refer to a live .NET object"):
                    _bridge.wait(entry, None, *args)
        # Nothing left behind for a later call.
        self.assertEqual(_bridge.last_error(), 0)

    def test_a_handle_of_another_type_is_a_clear_error(self):
        future = cs_futures.Future()
        with self.assertRaisesRegex(RuntimeError, "not a ThreadPoolExecutor"):
            _bridge.executor_info(future._h, _bridge.ExecutorInfo.MaxWorkers)
        with self.assertRaisesRegex(RuntimeError, "not a PythonWaiter"):
            _bridge.future_remove_waiter(future._h, future._h)

    def test_bad_selector_and_bad_conversion_are_value_errors(self):
        with cs_futures.ThreadPoolExecutor(1) as pool:
            with self.assertRaises(ValueError):
                _bridge.executor_info(pool._h, 99)
        future = cs_futures.Future()
        with self.assertRaises(ValueError):
            _bridge.future_force(future._h, _bridge.ForceField.State, 99, None)
        self.assertEqual(future._state, _base.PENDING)
        with self.assertRaises(ValueError):
            _bridge.executor_new(1, 42, None)  # a thread name prefix that is not a str

    def test_future_methods_after_the_handle_is_gone_raise(self):
        future = cs_futures.Future()
        handle = future._h
        _bridge.handle_free(handle, 0)
        try:
            for method in (future.done, future.running, future.cancelled):  # FutureBase's C methods
                with self.assertRaisesRegex(RuntimeError, "does not refer to a live .NET object"):
                    method()
            for method in (future.result, future.exception):
                with self.assertRaisesRegex(RuntimeError, "does not refer to a live .NET object"):
                    method(timeout=WAIT)
        finally:
            future._h = 0  # its finalizer must not free it again


class ContractTests(unittest.TestCase):
    """Both sides name the same things."""

    def test_every_declared_entry_exists_and_every_entry_is_used(self):
        # The cluster's entries are used through the runtime-hosted engine's bridge (runtime()),
        # which the native engine does not describe; test_* entries are the tests' own
        # (test_native_engine builds them from the contract).
        described = {name for name in _bridge._contract.entries if not name.startswith("test_")}
        cluster = {name for name in described if name.startswith("cluster_")}
        declared = {name for name, value in vars(_bridge).items() if _bridge._is_entry(value)}
        self.assertEqual(declared, described - cluster)
        self.assertEqual(cluster, set() if cs_futures.ENGINE == "native" else
                         {"cluster_new", "cluster_submit", "cluster_shutdown", "cluster_join", "cluster_stats",
                          "cluster_logs"})

    def test_entries_are_builtins_of_the_engine_module_with_their_kind(self):
        # The package's engine, and the runtime-hosted engine's bridge, which the cluster executor uses.
        runtime = _bridge.runtime()
        for bridge, contract in ((_bridge, _bridge._contract), (runtime, _bridge._loader.load_runtime("the tests"))):
            for name, (kind, signature) in contract.entries.items():
                with self.subTest(engine=contract.engine, entry=name):
                    entry = getattr(contract.module, name)
                    self.assertIsInstance(entry, types.BuiltinFunctionType)
                    self.assertTrue(entry.__doc__.startswith(f"{name}({', '.join(signature.partition(':')[2])})"),
                                    entry.__doc__)
                    self.assertIn('"wait" entry (GIL released)' if kind == "wait" else '"py" entry', entry.__doc__)

    def test_a_wait_entry_lets_other_python_threads_run(self):
        # "wait" entries release the GIL while they block: a Python thread counts meanwhile.
        runtime = _bridge.runtime()
        for bridge in (_bridge, runtime):
            with self.subTest(engine=bridge.ENGINE if bridge is _bridge else bridge.engine):
                handle = bridge.future_new()
                try:
                    started, stop, count = threading.Event(), threading.Event(), [0]

                    def counting():
                        started.set()
                        while not stop.is_set():
                            count[0] += 1

                    thread = threading.Thread(target=counting)
                    thread.start()
                    started.wait()
                    before = count[0]
                    self.assertEqual(bridge.future_wait(handle, 0.3), 0)  # pending: the whole 0.3 s
                    during = count[0] - before
                    stop.set()
                    thread.join()
                    self.assertGreater(during, 1000)
                finally:
                    bridge.handle_free(handle, 0)

    def test_future_states_map_onto_the_stdlib_constants(self):
        states = {std._base.PENDING, std._base.RUNNING, std._base.CANCELLED,
                  std._base.CANCELLED_AND_NOTIFIED, std._base.FINISHED}
        self.assertEqual(set(_base._STATE_INDEX), states)
        self.assertEqual(set(_base._FUTURE_STATES), states)
        if hasattr(std._base, "_FUTURE_STATES"):  # gone in 3.14
            self.assertIs(_base._FUTURE_STATES, std._base._FUTURE_STATES)
        self.assertEqual(set(_base._STATE_INDEX.values()), set(vars(_bridge.FutureState).values()))

    def test_shared_messages_are_the_engines(self):
        with cs_futures.ThreadPoolExecutor(1) as pool:
            pass
        with self.assertRaises(RuntimeError) as raised:
            pool.submit(pow, 1, 1)
        self.assertEqual(str(raised.exception), _bridge.MESSAGES["SubmitAfterShutdown"])
        process_pool = cs_futures.ProcessPoolExecutor(1)
        process_pool.shutdown()
        with self.assertRaises(RuntimeError) as raised:
            process_pool.submit(pow, 1, 1)
        self.assertEqual(str(raised.exception), _bridge.MESSAGES["SubmitAfterShutdown"])
        self.assertEqual(cs_futures.process._TERMINATED, _bridge.MESSAGES["ProcessTerminatedAbruptly"])

    def test_the_wait_slice_is_the_engines(self):
        # One value, in .NET (NativeEntryPoints.WaitSlice): the package's slice helper and
        # FutureBase.result()'s wait in C return to Python as often.
        self.assertEqual(_bridge.NUMBERS["WaitSlice"], 0.1)
        self.assertEqual(_bridge.SLICE, _bridge.NUMBERS["WaitSlice"])


class SliceWaitTests(unittest.TestCase):
    """The one helper that waits in slices."""

    def test_returns_zero_after_the_timeout_and_the_result_when_done(self):
        future = cs_futures.Future()
        self.assertEqual(_bridge.wait(_bridge.future_wait, 0.05, future._h), 0)
        self.assertEqual(_bridge.wait(_bridge.future_wait, 0, future._h), 0)
        threading.Timer(0.05, future.set_result, (1,)).start()
        self.assertEqual(_bridge.wait(_bridge.future_wait, None, future._h), 1)

    def test_wait_spans_slices(self):
        # One wait_new, then wait_next slice after slice (the NUnit suite checks the waiter is
        # installed once); a completion in the third slice ends the wait.
        future = cs_futures.Future()
        done, not_done = cs_futures.wait([future], timeout=3 * _bridge.SLICE)
        self.assertEqual((done, not_done), (set(), {future}))
        threading.Timer(2.5 * _bridge.SLICE, future.set_result, (1,)).start()
        done, _ = cs_futures.wait([future], timeout=WAIT)
        self.assertEqual(done, {future})


if __name__ == "__main__":
    unittest.main()
