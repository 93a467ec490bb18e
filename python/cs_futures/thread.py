"""ThreadPoolExecutor on the .NET engine's worker threads (CPython: concurrent/futures/thread.py)."""
import functools
import itertools
import os
import queue
import sys
import threading
import weakref
from concurrent.futures import thread as _std_thread

from . import _base
from . import _bridge

BrokenThreadPool = _std_thread.BrokenThreadPool

try:  # Python 3.14 and later: the standard library's class, so that its except clauses match
    from concurrent.futures.interpreter import BrokenInterpreterPool
except ImportError:
    class BrokenInterpreterPool(BrokenThreadPool):
        """
        Raised when a worker thread in an InterpreterPoolExecutor failed initializing.
        """

    BrokenInterpreterPool.__module__ = "concurrent.futures.interpreter"

# Like CPython: set at interpreter exit, after which no executor accepts work.
_shutdown = False
_live_executors = weakref.WeakSet()
# Handles of executors that were dropped while their workers still had work: joined at exit, as
# CPython joins every worker thread it started, whether or not its executor object still exists.
_dropped_handles = []


def _python_exit():
    """At interpreter exit, let every executor finish its queued work (CPython's _python_exit)."""
    global _shutdown
    _shutdown = True
    if _bridge.forked:
        return  # the executors belong to the parent process
    for executor in list(_live_executors):
        executor._shutdown_at_exit()
    while _dropped_handles:
        handle = _dropped_handles.pop()
        _bridge.wait(_bridge.executor_join, None, handle)
        _bridge.handle_free(handle, 0)


def _release_dropped(handle):
    """Keep a dropped executor's handle until its workers exited; free the ones that did."""
    for old in [h for h in _dropped_handles if _bridge.wait(_bridge.executor_join, 0, h)]:
        _dropped_handles.remove(old)
        _bridge.handle_free(old, 0)
    _dropped_handles.append(handle)


threading._register_atexit(_python_exit)


class _PoolThread(threading.Thread):
    """A .NET worker thread as Python sees it: in ``threading.current_thread()`` inside a task (so
    the name is the pool's) and in ``executor._threads`` (with ``join()``)."""

    def __init__(self, name, handle=None):
        super().__init__(name=name, daemon=True)
        self._dotnet_thread = handle
        self._started.set()

    def __del__(self, _free=_bridge.handle_free, _bridge=_bridge):
        handle, self._dotnet_thread = self._dotnet_thread, None
        if handle and not _bridge.forked:
            _free(handle, 0)

    def start(self):
        raise RuntimeError("a cs_futures worker thread is started by its executor")

    def join(self, timeout=None):
        """Wait until the worker thread exits (after its executor shut down)."""
        if self._dotnet_thread is None:
            raise RuntimeError("cannot join a worker thread from inside itself")
        _bridge.wait(_bridge.thread_join, timeout, self._dotnet_thread)

    def is_alive(self):
        return self._dotnet_thread is None or not _bridge.wait(_bridge.thread_join, 0, self._dotnet_thread)

    def __repr__(self):
        return "<%s(%s, %s daemon)>" % (
            self.__class__.__name__, self.name, "started" if self.is_alive() else "stopped")


_make_thread_handle = getattr(threading, "_make_thread_handle", None)


def _worker_started(name):
    """Runs first on each .NET worker thread, under the GIL: registers it with threading."""
    thread = _PoolThread(name)
    thread._ident = threading.get_ident()
    if _make_thread_handle is not None:
        # As threading's _DummyThread (3.13+): a handle for this OS thread, so that a fork from a
        # task finds it (threading._after_fork makes the forking thread the child's main thread and
        # checks its handle; threading._shutdown then marks it done at the child's exit).
        # (Named _handle in 3.13.0, _os_thread_handle in later releases.)
        handle = "_os_thread_handle" if hasattr(thread, "_os_thread_handle") else "_handle"
        setattr(thread, handle, _make_thread_handle(thread._ident))
    elif hasattr(thread, "_set_tstate_lock"):
        # 3.11, 3.12: the lock that this thread's state releases when it dies, as a started
        # Thread has (a fork's child releases it at exit when this thread forked it).
        thread._set_tstate_lock()
    if hasattr(threading, "get_native_id"):
        thread._native_id = threading.get_native_id()
    threading._active[thread._ident] = thread
    # As CPython's Thread._bootstrap_inner: threading.settrace()/setprofile() reach new threads
    # (coverage and profilers rely on it).
    if threading._trace_hook is not None:
        sys.settrace(threading._trace_hook)
    if threading._profile_hook is not None:
        sys.setprofile(threading._profile_hook)


def _worker_stopping(name):
    """Runs last on each .NET worker thread, under the GIL: ends its worker context (if its pool
    has contexts, see ``ThreadPoolExecutor.prepare_context``) and unregisters it from threading."""
    try:
        context = _worker_contexts.__dict__.pop("context", None)
        if context is not None:
            context.finalize()
    finally:
        threading._active.pop(threading.get_ident(), None)


class WorkerContext:
    """Python 3.14's ``concurrent.futures.thread.WorkerContext`` (the standard library's own class
    from 3.14 on): what a worker thread runs its tasks in. ``ThreadPoolExecutor.prepare_context``
    returns ``prepare``'s pair; each worker creates its context, calls ``initialize()`` first,
    ``run(task)`` for each task, and ``finalize()`` when it exits."""

    @classmethod
    def prepare(cls, initializer, initargs):
        if initializer is not None:
            if not callable(initializer):
                raise TypeError("initializer must be a callable")
        def create_context():
            return cls(initializer, initargs)
        def resolve_task(fn, args, kwargs):
            return (fn, args, kwargs)
        return create_context, resolve_task

    def __init__(self, initializer, initargs):
        self.initializer = initializer
        self.initargs = initargs

    def initialize(self):
        if self.initializer is not None:
            self.initializer(*self.initargs)

    def finalize(self):
        pass

    def run(self, task):
        fn, args, kwargs = task
        return fn(*args, **kwargs)


WorkerContext = getattr(_std_thread, "WorkerContext", WorkerContext)

# The worker context of each worker thread of a pool whose class overrides prepare_context.
_worker_contexts = threading.local()


def _initialize_context(create_context):
    """A worker's first call, for a pool whose class overrides ``prepare_context``: create the
    worker's context and initialize it (an exception is logged and breaks the pool, as an
    initializer's)."""
    context = create_context()
    context.initialize()
    _worker_contexts.context = context


def _run_in_context(task):
    """A task of a pool whose class overrides ``prepare_context``: run in the worker's context."""
    return _worker_contexts.context.run(task)


def _run_initializer(initializer, initargs):
    try:
        initializer(*initargs)
    except BaseException:
        _base.LOGGER.critical('Exception in initializer:', exc_info=True)
        raise


class _WorkQueue:
    """``executor._work_queue`` as code reads it: its size."""

    def __init__(self, executor):
        self._executor = weakref.ref(executor)

    def qsize(self):
        executor = self._executor()
        return 0 if executor is None else _bridge.executor_info(executor._h, _bridge.ExecutorInfo.QueuedCount)

    def empty(self):
        return self.qsize() == 0


def _cpu_count():
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


_bridge.start(_worker_started, _worker_stopping, BrokenInterpreterPool)


class ThreadPoolExecutor(_base.Executor, _std_thread.ThreadPoolExecutor):
    """An executor that runs calls on a pool of .NET worker threads."""

    # Used to assign unique thread names when thread_name_prefix is not supplied.
    _counter = itertools.count().__next__

    @classmethod
    def prepare_context(cls, initializer, initargs):
        """Returns (create_context, resolve_task) for the pool's workers (Python 3.14): a subclass
        that overrides it has each worker create a context and run its tasks in it (see
        WorkerContext); resolve_task(fn, args, kwargs) runs at submit."""
        return WorkerContext.prepare(initializer, initargs)

    def __init__(self, max_workers=None, thread_name_prefix='',
                 initializer=None, initargs=(), **ctxkwargs):
        """Initializes a new ThreadPoolExecutor instance.

        Args:
            max_workers: The maximum number of threads that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize worker threads.
            initargs: A tuple of arguments to pass to the initializer.
            ctxkwargs: Additional arguments to cls.prepare_context().
        """
        _bridge.check_process()
        if max_workers is None:
            # ThreadPoolExecutor is often used to:
            # * CPU bound task which releases GIL
            # * I/O bound task (which releases GIL, of course)
            #
            # We use process_cpu_count + 4 for both types of tasks.
            # But we limit it to 32 to avoid consuming surprisingly large resource
            # on many core machine.
            max_workers = min(32, _cpu_count() + 4)
        if max_workers <= 0:
            raise ValueError(_bridge.MESSAGES["MaxWorkersNotPositive"])

        # A class that overrides prepare_context (or passes it arguments) gets worker contexts;
        # otherwise the engine calls the initializer and the tasks directly.
        self._resolve_work_item_task = None
        if ctxkwargs or (type(self).prepare_context.__func__
                         is not ThreadPoolExecutor.prepare_context.__func__):
            (create_context,
             self._resolve_work_item_task,
             ) = type(self).prepare_context(initializer, initargs, **ctxkwargs)
        elif initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        self._thread_name_prefix = (thread_name_prefix or
                                    ("ThreadPoolExecutor-%d" % self._counter()))
        self._initializer = initializer
        self._initargs = initargs
        self._thread_objects = []
        if self._resolve_work_item_task is not None:
            run_initializer = functools.partial(_run_initializer, _initialize_context, (create_context,))
        else:
            run_initializer = (None if initializer is None
                               else functools.partial(_run_initializer, initializer, initargs))
        self._h = self._new_pool(max_workers, self._thread_name_prefix, run_initializer)
        _live_executors.add(self)

    def _new_pool(self, max_workers, thread_name_prefix, run_initializer):
        """The .NET pool's handle (InterpreterPoolExecutor makes another kind)."""
        return _bridge.executor_new(max_workers, thread_name_prefix, run_initializer)

    def __del__(self, _shutdown=_bridge.executor_shutdown, _release=_release_dropped, _bridge=_bridge):
        handle = self.__dict__.get('_h')
        if handle and not _bridge.forked:
            self._h = None
            if self.__dict__.get('_copied_from_live_executor'):
                _bridge.handle_free(handle, 0)  # a copy: dropping it leaves the pool alone, as in CPython
                return
            _shutdown(handle, 0)  # workers exit once the queue is drained, as in CPython
            _release(handle)

    def __copy__(self):
        """``copy.copy(executor)``: another view of the same pool, as the standard library's copy
        (it shares the queue and the threads). Dropping the copy does not shut the pool down."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._h = _bridge.handle_copy(self._h)
        clone._copied_from_live_executor = True
        return clone

    def __reduce_ex__(self, protocol):
        """Executors cannot be pickled, as with the standard library: the same error, raised by the
        first attribute of the standard library's executor that cannot be pickled (3.14+: the local
        function of its WorkerContext; before: its queue)."""
        worker_context = getattr(_std_thread, 'WorkerContext', None)
        if worker_context is not None:
            import pickle
            pickle.dumps(worker_context.prepare(None, ())[0], protocol)
        return queue.SimpleQueue().__reduce_ex__(protocol)

    def __deepcopy__(self, memo):
        """Executors cannot be deep-copied, as with the standard library: the TypeError of its queue."""
        return queue.SimpleQueue().__reduce_ex__(4)

    def stats(self):
        """Return what the pool has done so far, as a dict (cs_futures; CPython has no such call):
        ``name`` (the thread name prefix, the tag of the pool's .NET metrics), and the counts
        ``submitted``, ``completed`` (returned a result), ``failed`` (raised), ``cancelled``
        (cancelled before they ran), ``queued`` (waiting for a thread now) and ``workers`` (live
        threads now). A task is counted just after its future completes; after
        ``shutdown(wait=True)`` the counts are exact."""
        return _bridge.executor_stats(self._h)

    def submit(self, fn, /, *args, **kwargs):
        """Submits a callable to be executed with the given arguments.

        Schedules the callable to be executed as fn(*args, **kwargs) and returns
        a Future instance representing the execution of the callable.

        Returns:
            A Future representing the given call.
        """
        if _shutdown:
            if not self._shutdown:
                raise RuntimeError('cannot schedule new futures after interpreter shutdown')
        if _bridge.forked:
            _bridge.check_process()
        if self._resolve_work_item_task is not None:
            task = self._resolve_work_item_task(fn, args, kwargs)
            fn, args, kwargs = _run_in_context, (task,), None
        kind = _CALLABLE_KINDS.get(type(fn))
        if kind is None:
            kind = _classify(fn)
        future = _new_future(_Future)
        if kind == 1:
            future._h = _bridge.clr_bridge().SubmitDelegate(self._h, fn, args)
        else:
            future._h = _bridge.executor_submit(self._h, fn, args, kwargs or None)
        return future

    submit.__doc__ = _base.Executor.submit.__doc__

    def _submit_each(self, fn, arguments):
        # map's submits, each what submit(fn, *args) does, with the checks that cannot change between
        # two of them made once: a Python callable, no context to copy, submit not overridden.
        kind = _CALLABLE_KINDS.get(type(fn))
        if kind is None:
            kind = _classify(fn)
        if (kind != 0 or type(self).submit is not ThreadPoolExecutor.submit or _shutdown or _bridge.forked
                or self._resolve_work_item_task is not None):
            return super()._submit_each(fn, arguments)
        h, submit, new_future, future_type = self._h, _bridge.executor_submit, _new_future, _Future
        fs = []
        for args in arguments:
            future = new_future(future_type)
            future._h = submit(h, fn, args, None)
            fs.append(future)
        return fs

    def shutdown(self, wait=True, *, cancel_futures=False):
        _bridge.executor_shutdown(self._h, 1 if cancel_futures else 0)
        if wait:
            _bridge.wait(_bridge.executor_join, None, self._h)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def _shutdown_at_exit(self):
        if self.__dict__.get('_h'):
            self.shutdown(wait=True)

    # CPython's attributes, for code that reads them.

    @property
    def _threads(self):
        count = _bridge.executor_info(self._h, _bridge.ExecutorInfo.ThreadCount)
        while len(self._thread_objects) < count:
            index = len(self._thread_objects)
            self._thread_objects.append(_PoolThread(
                "%s_%d" % (self._thread_name_prefix, index), _bridge.executor_thread(self._h, index)))
        return set(self._thread_objects)

    @property
    def _shutdown(self):
        return bool(_bridge.executor_info(self._h, _bridge.ExecutorInfo.IsShutdown))

    @property
    def _broken(self):
        return _bridge.broken_reason(self._h) or False

    @property
    def _work_queue(self):
        return _WorkQueue(self)

    def _adjust_thread_count(self):
        """Threads are started by the .NET engine at submit; nothing to do here."""

    def _initializer_failed(self):
        """The .NET engine breaks the pool when an initializer raises; nothing to do here."""


# type -> 0 for Python callables, 1 for .NET delegates (submitted through pythonnet)
_CALLABLE_KINDS = {}
_Future = _base.Future
_new_future = object.__new__  # a future for a handle, without __init__'s call into .NET (Future._from_handle)


def _classify(fn):
    kind_of_type = type(fn)
    kind = 0
    module = getattr(kind_of_type, "__module__", "") or ""
    if module == "System" or module.startswith("System."):
        try:
            import System
            # A .NET delegate runs in .NET on the pool's thread, its result read by pythonnet, when
            # the pool is the runtime-hosted engine's; the native engine calls it as any Python
            # callable (pythonnet lets go of the GIL while the .NET code runs).
            kind = 1 if _bridge.ENGINE == "runtime" and isinstance(fn, System.Delegate) else 0
        except ImportError:
            kind = 0
    _CALLABLE_KINDS[kind_of_type] = kind
    return kind
