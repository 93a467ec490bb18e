"""ProcessPoolExecutor on worker processes managed by the .NET engine.

CPython: concurrent/futures/process.py. The engine (``Futures.Native``'s ``ProcessPoolExecutor``)
starts the workers, talks to them over private Unix sockets, notices a dead worker at once and
completes the futures; no Python thread manages the pool. This module pickles the calls, decodes
the replies (under the GIL, when a result is asked for), and keeps CPython's arguments, errors and
attributes. Each worker is a fresh interpreter running the standard-library-only package
``_cs_futures_worker`` (never cs_futures, never .NET): the main script's top level never runs there,
and its functions travel by value (``_cs_futures_worker._serialize``). CPython's private names that
code and tests reach for come from ``_process_compat``.

Beyond CPython, opt-in: ``task_timeout`` (a stuck task's worker is killed, only that future fails
with TimeoutError) and ``isolate_crashes`` (a dead worker fails only its own task).
"""
from concurrent.futures import process as _std_process

from . import _process_compat

# The standard module's names, private ones included: code and tests reach for them
# (``_check_system_limits``, ``_RemoteTraceback``, ``_ExecutorManagerThread``...); the pool's own
# definitions below replace some.
globals().update(_process_compat.stdlib_names())

import functools
import itertools
import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import threading
import weakref

import _cs_futures_worker
from _cs_futures_worker import _serialize, _worker

from . import _base
from . import _bridge
from . import _descriptors
# The views behind the executor's _processes, _executor_manager_thread and _call_queue.
from ._process_compat import _CallQueue, _PoolManager, _WorkerProcess, _mp_exitcode

BrokenProcessPool = _std_process.BrokenProcessPool
_RemoteTraceback = _std_process._RemoteTraceback
_check_system_limits = _std_process._check_system_limits
_process_chunk = _worker._process_chunk

_MAX_WINDOWS_WORKERS = 63 - 2

# CPython 3.14's operations of _force_shutdown (terminate_workers, kill_workers).
_TERMINATE = "terminate"
_KILL = "kill"
_SHUTDOWN_CALLBACK_OPERATION = {_TERMINATE, _KILL}
_TERMINATED = _bridge.MESSAGES["ProcessTerminatedAbruptly"]

# Set at interpreter exit, after which no executor accepts work (CPython's _global_shutdown).
_global_shutdown = False
# Every pool not yet joined, so that at exit their pending work finishes (CPython joins every
# executor manager thread, whether or not its executor object still exists).
_pools = set()


def _python_exit():
    global _global_shutdown
    _global_shutdown = True
    if _bridge.forked:
        return
    for pool in list(_pools):
        _bridge.process_pool_shutdown(pool.h, 0, _bridge.PoolShutdown.Shutdown)
    for pool in list(_pools):
        _bridge.wait(_bridge.process_pool_join, None, pool.h)
        _pools.discard(pool)


threading._register_atexit(_python_exit)


def _decode(kind, data):
    """Turn a worker's reply into (ok, value); called by .NET under the GIL, once per future.

    kind 0: a pickled result; 1: a pickled (exception, remote traceback, broken); 2: the engine's
    (message, detail, exit code) for a worker that died.
    """
    if kind == 2:
        message, detail, exitcode = data
        error = BrokenProcessPool(message)
        error.exitcode = _mp_exitcode(exitcode)
        if detail:
            error.__cause__ = _RemoteTraceback(f"\n'''\n{detail}\n'''")
        return False, error
    try:
        value = _serialize.loads(data)
    except BaseException as exc:  # CPython's result handler breaks the pool on this
        error = BrokenProcessPool(_TERMINATED)
        error.__cause__ = _RemoteTraceback(_worker._remote_traceback(exc))
        return False, error
    if kind == 0:
        return True, value
    return False, _worker.rebuild_error(*value)


_pool_counter = itertools.count().__next__


class _Pool:
    """The .NET pool's handle, freed when the executor and every worker view are gone (with the
    descriptors its initializer shares)."""

    __slots__ = ("h", "tokens", "__weakref__")

    def __init__(self, handle, tokens=()):
        self.h = handle
        self.tokens = tokens

    def __del__(self, _free=_bridge.handle_free, _bridge=_bridge):
        handle, self.h = self.h, None
        if handle and not _bridge.forked:
            _free(handle, 0)
        if self.tokens:
            _descriptors.release(self.tokens)


def _batched(iterable, n):
    it = iter(iterable)
    while chunk := tuple(itertools.islice(it, n)):
        yield chunk


def _chain_from_iterable_of_lists(iterable):
    """Specialized implementation of itertools.chain.from_iterable.
    Each item in *iterable* should be a list.  This function is
    careful not to keep references to yielded objects.
    """
    for element in iterable:
        element.reverse()
        while element:
            yield element.pop()


class _MapInChunks:
    """``map`` of the executors that ship calls to other processes (this pool, ClusterExecutor),
    written once: with *chunksize* > 1, one task per chunk of arguments (``_process_chunk``), the
    results flattened in order. Put first among the bases; ``super().map`` is ``Executor.map``."""

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, iter).

        Args:
            fn: A callable that will take as many arguments as there are
                passed iterables.
            timeout: The maximum number of seconds to wait. If None, then there
                is no limit on the wait time.
            chunksize: If greater than one, the iterables will be chopped into
                chunks of size chunksize and submitted to the executor, one task
                per chunk. If set to one, the items in the list will be sent one
                at a time.
            buffersize: The number of submitted tasks whose results have not
                yet been yielded. If the buffer is full, iteration over the
                iterables pauses until a result is yielded from the buffer.
                If None, all input elements are eagerly collected, and a task is
                submitted for each.

        Returns:
            An iterator equivalent to: map(func, *iterables) but the calls may
            be evaluated out-of-order.

        Raises:
            TimeoutError: If the entire result iterator could not be generated
                before the given timeout.
            Exception: If fn(*args) raises for any values.
        """
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout, buffersize=buffersize)
        results = super().map(functools.partial(_process_chunk, fn),
                              _batched(zip(*iterables), chunksize),
                              timeout=timeout, buffersize=buffersize)
        return _chain_from_iterable_of_lists(results)


def _worker_arguments():
    """The arguments of a worker process for this interpreter (``sys.executable``): its flags, then
    the bootstrap of every cs_futures worker (``_cs_futures_worker.worker_arguments``)."""
    return _cs_futures_worker.worker_arguments(subprocess._args_from_interpreter_flags())


def _worker_config(max_workers, initializer=None, *, max_tasks_per_child=None, start_all=False,
                   isolate_crashes=False, task_timeout=None, name=""):
    """The engine's worker-pool configuration (``PythonProcessPool.ReadOptions``): this interpreter
    with its flags running ``_cs_futures_worker``, this process's environment, and the settings
    each worker applies first (``sys.path``, ``sys.argv``, the authkey, the pickled initializer)."""
    settings = {
        "sys_path": list(sys.path),
        "sys_argv": list(sys.argv),
        "authkey": bytes(mp.current_process().authkey),
        "initializer": initializer,
    }
    return (
        sys.executable,
        _worker_arguments(),
        ["%s=%s" % item for item in os.environ.items()],
        max_workers,
        max_tasks_per_child or 0,
        pickle.dumps(settings, _serialize.PROTOCOL),
        1 if start_all else 0,
        1 if isolate_crashes else 0,
        float(task_timeout or 0.0),
        name,
    )


def _cpu_count():
    return getattr(os, "process_cpu_count", os.cpu_count)() or 1


class ProcessPoolExecutor(_MapInChunks, _base.Executor, _std_process.ProcessPoolExecutor):
    """An executor that runs calls in worker processes managed by the .NET engine."""

    def __init__(self, max_workers=None, mp_context=None,
                 initializer=None, initargs=(), *, max_tasks_per_child=None,
                 task_timeout=None, isolate_crashes=False):
        """Initializes a new ProcessPoolExecutor instance.

        Args:
            max_workers: The maximum number of processes that can be used to
                execute the given calls. If None or not given then as many
                worker processes will be created as the machine has processors.
            mp_context: A multiprocessing context. Accepted for compatibility:
                workers are always fresh interpreters started by the .NET engine;
                with the 'fork' start method they all start at the first submit,
                as CPython's do.
            initializer: A callable used to initialize worker processes.
            initargs: A tuple of arguments to pass to the initializer.
            max_tasks_per_child: The maximum number of tasks a worker process
                can complete before it will exit and be replaced with a fresh
                worker process. The default of None means worker process will
                live as long as the executor. Requires a non-'fork' mp_context
                start method. When given, we default to using 'spawn' if no
                mp_context is supplied.
            task_timeout: (cs_futures) Seconds a task may run; a task that runs
                longer has its worker killed and its future fails with
                TimeoutError, while the pool carries on. None for no limit.
            isolate_crashes: (cs_futures) If true, a worker that dies fails only
                the task it was running, with BrokenProcessPool, and is replaced;
                the pool stays usable.
        """
        _bridge.check_process()
        _check_system_limits()

        if max_workers is None:
            self._max_workers = _cpu_count()
            if sys.platform == 'win32':
                self._max_workers = min(_MAX_WINDOWS_WORKERS, self._max_workers)
        else:
            if max_workers <= 0:
                raise ValueError(_bridge.MESSAGES["MaxWorkersNotPositive"])
            elif (sys.platform == 'win32' and max_workers > _MAX_WINDOWS_WORKERS):
                raise ValueError(f"max_workers must be <= {_MAX_WINDOWS_WORKERS}")
            self._max_workers = max_workers

        if mp_context is None:
            if max_tasks_per_child is not None:
                mp_context = mp.get_context("spawn")
            else:
                mp_context = mp.get_context()
        self._mp_context = mp_context
        self._safe_to_dynamically_spawn_children = (
            self._mp_context.get_start_method(allow_none=False) != "fork")

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._initializer = initializer
        self._initargs = initargs

        if max_tasks_per_child is not None:
            if not isinstance(max_tasks_per_child, int):
                raise TypeError("max_tasks_per_child must be an integer")
            elif max_tasks_per_child <= 0:
                raise ValueError(_bridge.MESSAGES["MaxTasksPerChildNotPositive"])
            if self._mp_context.get_start_method(allow_none=False) == "fork":
                raise ValueError("max_tasks_per_child is incompatible with"
                                 " the 'fork' multiprocessing start method;"
                                 " supply a different mp_context.")
        self._max_tasks_per_child = max_tasks_per_child

        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be a positive number of seconds or None")
        self._task_timeout = task_timeout
        self._isolate_crashes = bool(isolate_crashes)

        self._name = "ProcessPoolExecutor-%d" % _pool_counter()

        self._shutdown_lock = threading.Lock()
        self._shutdown_thread = False
        self._force_shutting_down = False
        self._cancel_pending_futures = False
        self._pool = None
        # The _processes views handed out, by pid: weak, so that a pool replacing its workers
        # (max_tasks_per_child) does not keep one per worker it ever had.
        self._workers = weakref.WeakValueDictionary()

    def _start(self):
        """Create the .NET pool (at the first submit, as CPython starts its machinery then)."""
        initializer, tokens = (None, ()) if self._initializer is None else _descriptors.dumps_spawning(
            (self._initializer, self._initargs), once=False)
        config = _worker_config(
            self._max_workers, initializer, max_tasks_per_child=self._max_tasks_per_child,
            start_all=not self._safe_to_dynamically_spawn_children,
            isolate_crashes=self._isolate_crashes, task_timeout=self._task_timeout, name=self._name)
        try:
            self._pool = _Pool(_bridge.process_pool_new(config, _decode), tokens)
        except BaseException:
            if tokens:
                _descriptors.release(tokens)
            raise
        _pools.add(self._pool)
        if self._force_shutting_down_flag:
            _bridge.process_pool_shutdown(self._pool.h, 0, _bridge.PoolShutdown.ForceShuttingDown)
        return self._pool

    def __del__(self, _shutdown=_bridge.process_pool_shutdown, _bridge=_bridge):
        pool = self.__dict__.get('_pool')
        if pool is not None and pool.h and not _bridge.forked:
            if self.__dict__.get('_copied_from_live_executor'):
                return  # a copy: dropping it leaves the pool alone, as in CPython
            # Queued work still runs, but a worker leaving after max_tasks_per_child is no longer
            # replaced (CPython 3.14, gh-152967); the pool is joined at exit, as in CPython.
            _shutdown(pool.h, 0, _bridge.PoolShutdown.Collected)

    def __copy__(self):
        """``copy.copy(executor)``: another view of the same pool, as the standard library's copy.
        Dropping the copy does not shut the pool down. (Copied before its first submit, the copy
        starts and owns a pool of its own.)"""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._copied_from_live_executor = self._pool is not None
        return clone

    def __reduce_ex__(self, protocol):
        """Executors cannot be pickled (nor deep-copied), as with the standard library: the same
        TypeError, raised by the lock that the standard library's executor holds."""
        return threading.Lock().__reduce_ex__(protocol)

    def submit(self, fn, /, *args, **kwargs):
        with self._shutdown_lock:
            if self._broken:
                raise BrokenProcessPool(self._broken)
            if self._shutdown_thread:
                raise RuntimeError(_bridge.MESSAGES["SubmitAfterShutdown"])
            if _global_shutdown:
                raise RuntimeError('cannot schedule new futures after '
                                   'interpreter shutdown')
            if _bridge.forked:
                _bridge.check_process()
            pool = self._pool or self._start()
            try:
                payload, tokens = _descriptors.dumps_spawning((fn, args, kwargs), once=True)
            except Exception as exc:
                # CPython counts the call in submit (it may start a worker for it) and reports that
                # it cannot be pickled through its future: an empty payload tells the engine to count
                # it the same way.
                _bridge.handle_free(_bridge.process_pool_submit(pool.h, b"", 0.0), 0)
                exc.__cause__ = _RemoteTraceback(_worker._remote_traceback(exc))
                future = _base.Future()
                future.set_exception(exc)
                return future
            try:
                future = _base.Future._from_handle(
                    _bridge.process_pool_submit(pool.h, payload, 0.0))
            except BaseException:
                if tokens:
                    _descriptors.release(tokens)
                raise
            if tokens:
                future.add_done_callback(_descriptors.release_when_done(tokens))
            return future

    submit.__doc__ = _base.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._cancel_pending_futures = cancel_futures
            self._shutdown_thread = True
            pool = self._pool
        if pool is None:
            return
        _bridge.process_pool_shutdown(pool.h, 1 if cancel_futures else 0, _bridge.PoolShutdown.Shutdown)
        if wait:
            _bridge.wait(_bridge.process_pool_join, None, pool.h)
            _pools.discard(pool)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def _force_shutdown(self, operation):
        """Attempts to terminate or kill the executor's workers based off the
        given operation. Iterates through all of the current processes and
        performs the relevant task if the process is still alive.

        After terminating workers, the pool will be in a broken state
        and no longer usable (for instance, new tasks should not be
        submitted).
        """
        if operation not in _SHUTDOWN_CALLBACK_OPERATION:
            raise ValueError(f"Unsupported operation: {operation!r}")

        # As CPython 3.14 (gh-152967): first no worker leaving after max_tasks_per_child is
        # replaced (a replacement would escape the signals below).
        with self._shutdown_lock:
            self._force_shutting_down = True

        processes = {}
        if self._processes:
            processes = self._processes.copy()

        self.shutdown(wait=False, cancel_futures=True)

        for proc in processes.values():
            try:
                if not proc.is_alive():
                    continue
            except ValueError:
                continue
            try:
                if operation == _TERMINATE:
                    proc.terminate()
                elif operation == _KILL:
                    proc.kill()
            except ProcessLookupError:
                continue

        # The engine then signals any worker the copy above missed (one still starting).
        pool = self._pool
        if pool is not None:
            _bridge.process_pool_shutdown(
                pool.h, 1,
                _bridge.PoolShutdown.Terminate if operation == _TERMINATE else _bridge.PoolShutdown.Kill)

    def terminate_workers(self):
        """Attempts to terminate the executor's workers.
        Iterates through all of the current worker processes and terminates
        each one that is still alive.

        After terminating workers, the pool will be in a broken state
        and no longer usable (for instance, new tasks should not be
        submitted).
        """
        return self._force_shutdown(operation=_TERMINATE)

    def kill_workers(self):
        """Attempts to kill the executor's workers.
        Iterates through all of the current worker processes and kills
        each one that is still alive.

        After killing workers, the pool will be in a broken state
        and no longer usable (for instance, new tasks should not be
        submitted).
        """
        return self._force_shutdown(operation=_KILL)

    @property
    def _force_shutting_down(self):
        """CPython 3.14's flag: once true, a worker leaving after max_tasks_per_child is not replaced,
        and the queued futures fail when no worker is left (the engine decides)."""
        return self._force_shutting_down_flag

    @_force_shutting_down.setter
    def _force_shutting_down(self, value):
        self._force_shutting_down_flag = value = bool(value)
        pool = self.__dict__.get("_pool")
        if value and pool is not None:
            _bridge.process_pool_shutdown(pool.h, 0, _bridge.PoolShutdown.ForceShuttingDown)

    def stats(self):
        """Return what the pool has done so far, as a dict (cs_futures; CPython has no such call):
        ``name`` (the tag of the pool's .NET metrics), the task counts ``submitted``,
        ``completed`` (returned a result), ``failed`` (raised, or lost their worker, or timed out),
        ``cancelled`` (cancelled before they ran) and ``queued`` (waiting for a worker now), and the
        worker processes: ``workers`` (live now), ``worker_starts``, ``worker_deaths`` (ended
        unexpectedly) and ``worker_restarts`` (replacements started). All zero before the first
        submit starts the pool. A task is counted just after its future completes; after
        ``shutdown(wait=True)`` the counts are exact."""
        pool = self._pool
        if pool is None:
            return dict(name=self._name, submitted=0, completed=0, failed=0, cancelled=0, queued=0,
                        workers=0, worker_starts=0, worker_deaths=0, worker_restarts=0)
        return _bridge.executor_stats(pool.h)

    # CPython's attributes, for code and tests that read them.

    @property
    def _broken(self):
        pool = self._pool
        return (pool is not None and _bridge.broken_reason(pool.h)) or False

    @property
    def _processes(self):
        pool = self._pool
        if pool is None:
            return {}
        if self._shutdown_thread:
            return None  # as CPython, which drops the mapping at shutdown
        pids = _bridge.process_pool_workers(pool.h)
        views = {}
        for pid in pids:
            view = self._workers.get(pid)
            if view is None:
                view = self._workers[pid] = _WorkerProcess(pool, pid)
            views[pid] = view
        return views

    @property
    def _executor_manager_thread(self):
        return None if self._pool is None else _PoolManager(self._pool)

    @property
    def _call_queue(self):
        return None if self._pool is None else _CallQueue()

    def _shutdown_at_exit(self):
        self.shutdown(wait=True)

    def _adjust_process_count(self):
        """Workers are started by the .NET engine at submit; nothing to do here."""

    def _start_executor_manager_thread(self):
        """The .NET engine manages the workers; there is no manager thread."""
