"""InterpreterPoolExecutor on the .NET engine's worker threads (CPython 3.14:
concurrent/futures/interpreter.py), for Python 3.12 and later.

How a call flows::

    caller's interpreter                 worker thread (.NET)           worker's subinterpreter
    submit(fn, *args, **kwargs)
      pickle (fn, args, kwargs) -------> _call(payload) under the
      (__main__ functions by value)      caller's GIL
                                         interpreter_run: releases it,
                                         takes the subinterpreter's  --> run(payload): unpickle,
                                                                         call, pickle the result
                                         <-- bytes (its GIL released)    or the error
                                         takes the caller's GIL again,
      future.result() <----------------- unpickles the reply

Each worker thread owns one isolated subinterpreter (its own GIL, CPython's
``_PyInterpreterConfig_INIT``: no fork, exec or daemon threads, only extension modules that
support subinterpreters) from its first task until the pool shuts down. The futures are the
package's ordinary futures: they mix with the other executors' in ``wait``, ``as_completed`` and
asyncio.
"""
import functools
import sys

import _cs_futures_worker
from _cs_futures_worker import _interpreter_calls, _serialize

from . import _bridge
from . import thread as _thread

BrokenInterpreterPool = _thread.BrokenInterpreterPool
if sys.version_info >= (3, 14):
    from concurrent.interpreters import ExecutionFailed  # the standard library's own class
else:
    ExecutionFailed = _interpreter_calls.ExecutionFailed

# The first Python with isolated subinterpreters that have their own GIL (Py_NewInterpreterFromConfig).
REQUIRED_VERSION = (3, 12)


def _call(payload, _run=_bridge.interpreter_run, _result=_interpreter_calls.result):
    """Runs on a worker thread: the pickled call in the worker's subinterpreter."""
    return _result(_run(payload))


def _run_initializer(payload):
    """The initializer, run in the worker's subinterpreter; its exception is raised here, which
    breaks the pool (BrokenInterpreterPool)."""
    _call(payload)


# Python 3.14+: what a call may carry into the worker's interpreter follows CPython 3.14's rules
# (concurrent.interpreters): closures, local classes and their instances cannot cross, and fail
# with NotShareableError. 3.12 and 3.13 keep the rules of cs_futures' process pool. (The worker's
# side, _interpreter_calls, decides by the same flag.)
_CROSS_INTERPRETER_RULES = _interpreter_calls._CROSS_INTERPRETER_ERRORS


def _not_shareable(obj):
    """CPython 3.14's error for *obj*, which cannot cross into another interpreter: a
    NotShareableError, caused by the error of the first item that cannot, for a tuple."""
    from _interpreters import NotShareableError
    error = NotShareableError(f"{obj!r} does not support cross-interpreter data")
    if type(obj) is tuple:
        for item in obj:
            try:
                _serialize.dumps_shareable(item)
            except Exception:
                error.__cause__ = _not_shareable(item)
                break
    return error


def _raise_not_shareable(call):
    """Runs on a worker thread instead of a call (or an initializer) that cannot cross into the
    worker's interpreter: raises its NotShareableError there, as CPython's worker does."""
    error = _not_shareable(call)
    try:
        raise error
    finally:
        error = None


def _dumps_call(fn, args, kwargs):
    """The pickled call for a worker, or None when it cannot cross into another interpreter
    (Python 3.14+ only; on older versions the pickling error is raised)."""
    if not _CROSS_INTERPRETER_RULES:
        return _serialize.dumps((fn, args, kwargs))
    try:
        return _serialize.dumps_shareable((fn, args, kwargs))
    except Exception:
        return None


class InterpreterPoolExecutor(_thread.ThreadPoolExecutor):
    """An executor that runs calls in a pool of isolated subinterpreters, one per .NET worker
    thread, in parallel (each interpreter has its own GIL)."""

    def __init__(self, max_workers=None, thread_name_prefix='', initializer=None, initargs=()):
        """Initializes a new InterpreterPoolExecutor instance.

        Args:
            max_workers: The maximum number of interpreters that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize each worker interpreter.
                It is pickled and runs inside the interpreter.
            initargs: A tuple of arguments to pass to the initializer (pickled too).

        Raises:
            NotImplementedError: Python older than 3.12 (no isolated subinterpreters).
            ValueError: max_workers is not positive.
            TypeError: initializer is not callable.
        """
        if sys.version_info[:2] < REQUIRED_VERSION:
            raise NotImplementedError(
                "InterpreterPoolExecutor needs Python %d.%d or newer (isolated subinterpreters with "
                "their own GIL); this is %s. Use ProcessPoolExecutor for parallel Python here."
                % (REQUIRED_VERSION + (sys.version.split()[0],)))
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._bootstrap = _interpreter_calls.bootstrap(sys.path, _cs_futures_worker.location())
        init = None
        if initializer is not None:
            payload = _dumps_call(initializer, tuple(initargs), {})
            if payload is None:
                # As CPython 3.14: each worker fails to initialize (logged), which breaks the pool.
                init = functools.partial(_raise_not_shareable, (initializer, tuple(initargs), {}))
            else:
                init = functools.partial(_run_initializer, payload)
        super().__init__(max_workers,
                         thread_name_prefix or "InterpreterPoolExecutor-%d" % self._counter(),
                         init)
        self._initializer, self._initargs = initializer, initargs

    def _new_pool(self, max_workers, thread_name_prefix, run_initializer):
        return _bridge.interpreter_pool_new(max_workers, thread_name_prefix, run_initializer,
                                            self._bootstrap)

    def submit(self, fn, /, *args, **kwargs):
        """Submits a callable to be executed with the given arguments in a worker's interpreter.

        Schedules the callable to be executed as fn(*args, **kwargs) and returns
        a Future instance representing the execution of the callable. The callable
        and its arguments are pickled now (functions of ``__main__`` by value), and
        the result is pickled back.

        On Python 3.14 and later, what crosses follows CPython 3.14's rules: a
        function without state (no closure, defaults or globals) travels as its
        code; anything else must pickle (closures, local classes and their
        instances cannot): the future then fails with
        concurrent.interpreters.NotShareableError, as with the standard library.

        Returns:
            A Future representing the given call.

        Raises:
            pickle.PicklingError (or the error pickling raised): the call cannot be
                pickled (Python 3.12 and 3.13).
            RuntimeError: the executor was shut down.
            BrokenInterpreterPool: an initializer failed.
        """
        payload = _dumps_call(fn, args, kwargs)
        if payload is None:
            return super().submit(_raise_not_shareable, (fn, args, kwargs))
        return super().submit(_call, payload)
