"""ClusterExecutor: the same executor across machines, on Microsoft Orleans.

    from cs_futures import ClusterExecutor
    with ClusterExecutor() as ex:                        # an in-process local cluster
        print(sum(ex.map(crunch, range(10_000), chunksize=100)))
    with ClusterExecutor("127.0.0.1:30000") as ex: ...   # a running cluster, through a gateway
    with ClusterExecutor("redis://127.0.0.1:6379") as ex: ...  # membership kept in Redis

A node is started with ``python -m cs_futures.cluster worker`` (see ``__main__``). There is no
central scheduler: this process keeps its queue and its futures, nodes pull tasks from it and send
results straight back. A task lost with its node or worker process runs again elsewhere (execution
is at least once; each future completes exactly once); a task whose attempts kill
``allowed_failures + 1`` workers or nodes fails with :class:`KilledWorker`.

Calls travel as in the process pool (functions of ``__main__`` by value); objects tied to this
machine (multiprocessing locks, pipes and queues, shared memory, sockets, open files) are refused.
"""
import functools
import os
import threading

from _cs_futures_worker import _serialize, _worker

from .. import _base, _bridge, _loader
from .. import process as _process
from . import _logs
from ._errors import ClusterUnavailable, KilledWorker, PayloadTooLarge, VersionMismatch
from ._errors import decode as _decode

__all__ = ("ClusterExecutor", "KilledWorker", "PayloadTooLarge", "ClusterUnavailable", "VersionMismatch")


def _dumps(call):
    return _worker.cluster_tag() + _serialize.dumps(call, _serialize.machine_bound_reducers())


class _Cluster:
    """The .NET executor's handle in the runtime-hosted engine ``rt``, freed with the executor."""

    __slots__ = ("h", "rt", "__weakref__")

    def __init__(self, rt, handle):
        self.rt = rt
        self.h = handle

    def __del__(self, _bridge=_bridge):
        handle, self.h = self.h, None
        if handle and not _bridge.forked:
            self.rt.handle_free(handle, 0)


# Executors not shut down: joined at exit, as CPython joins its process pools.
_live = set()


def _at_exit():
    for cluster in list(_live):
        cluster.rt.cluster_shutdown(cluster.h, 0)
    for cluster in list(_live):
        cluster.rt.wait(cluster.rt.cluster_join, 60, cluster.h)
        _logs.drain(cluster)
        _live.discard(cluster)
    _logs.stop()


threading._register_atexit(_at_exit)

_MiB = 1 << 20


class _ChunkFuture(_base.Future):
    """The future of a ``map`` chunk, made of the cluster futures that run it (the chunk, or its
    items one by one after the chunk was lost): cancelled only while none of them runs."""

    _parts = ()

    def cancel(self):
        parts = self._parts
        if any(part.running() or part.done() and not part.cancelled() for part in parts):
            return False
        for part in parts:
            part.cancel()
        return super().cancel()


class _Following(_base.Future):
    """A cluster task's future when this process's futures live in the native engine and the
    cluster in the runtime-hosted one (CoreCLR): a future of the native engine, so that it mixes
    with every other in ``wait``, ``as_completed`` and asyncio, that follows the cluster's future.
    The outcome is copied when the task ends; ``cancel()`` and ``running()`` ask the cluster's
    future first, so that CPython's rules hold (a running task cannot be cancelled)."""

    def __init__(self, rt, task):
        super().__init__()
        self._rt = rt
        self._task = task
        rt.future_add_done_callback(task, functools.partial(_follow, self))

    def __del__(self, _bridge=_bridge):
        task = self.__dict__.get("_task")
        if task and not _bridge.forked:
            self._task = None
            self._rt.handle_free(task, 1)
        super().__del__()

    def cancel(self):
        if self._rt.future_cancel(self._task) != 1:
            return False  # running or done in the cluster
        return super().cancel()

    def running(self):
        return not super().done() and self._rt.future_state(self._task) == self._rt.FutureState.Running

    def _current_state(self):
        return _base.RUNNING if self.running() else super()._current_state()


def _follow(future):
    """Copy a cluster task's outcome into the future that follows it (a done-callback of the task)."""
    rt, task = future._rt, future._task
    error = rt.future_outcome(task, rt.Outcome.Exception)
    if error is _bridge.CANCELLED:
        _base.Future.cancel(future)
    elif error is None:
        _settle(future, rt.future_outcome(task, rt.Outcome.Result), None)
    else:
        _settle(future, None, error)


def _settle(future, result, error):
    """Complete a chunk's future (or one that follows a cluster task), unless it was cancelled meanwhile."""
    try:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    except _base.InvalidStateError:
        pass


def _gateways(address):
    if address is None or isinstance(address, str):
        return address
    return ",".join(address)


class ClusterExecutor(_process._MapInChunks, _base.Executor):
    """An executor whose calls run in worker processes of a cluster of nodes."""

    def __init__(self, address=None, *, max_workers=None, allowed_failures=3,
                 max_payload=64 * _MiB, task_timeout=None, tls_cert=None, tls_ca=None,
                 connect_timeout=30):
        """Initializes a new ClusterExecutor instance.

        Args:
            address: None for an embedded cluster (one node inside this process, on loopback,
                shared by every embedded executor of the process, with ``max_workers`` worker
                processes); ``"HOST:PORT"`` (or a list of them) for the gateways of a running
                cluster; ``"redis://[:PASSWORD@]HOST:PORT"`` for a cluster whose membership is
                kept in Redis.
            max_workers: Embedded: the number of worker processes (default ``os.cpu_count()``).
                With an address: the most tasks running at once on the cluster (default: no cap).
            allowed_failures: Lost runs a task survives; the next loss fails its future with
                KilledWorker.
            max_payload: The largest pickled call, in bytes; a larger one fails its future with
                PayloadTooLarge and is never sent.
            task_timeout: Seconds one run of a task may take; a longer one has its worker killed
                and its future fails with TimeoutError (no retry). None for no limit.
            tls_cert, tls_ca: Mutual TLS (both or neither): this executor's certificate and key
                (a PEM or PFX file), and the PEM file of the authority whose certificates the
                nodes must have; nodes are started with ``--tls-cert`` and ``--tls-ca``.
            connect_timeout: Seconds to reach the cluster; after that the pending futures fail
                with ClusterUnavailable. None to wait for a node as long as it takes.
        """
        rt = _bridge.runtime("ClusterExecutor")  # first, so that a missing .NET runtime is the error reported
        if not hasattr(rt, "cluster_new"):  # the assemblies were published without the cluster side
            raise ImportError("cs_futures: ClusterExecutor needs the cluster side of the .NET bridge "
                              "(Futures.Interop.Cluster.dll), which is not in the package's assemblies; "
                              f"build them with\n    {_loader.PUBLISH_COMMAND}")
        if max_workers is not None and max_workers <= 0:
            raise ValueError(_bridge.MESSAGES["MaxWorkersNotPositive"])
        if not isinstance(allowed_failures, int) or allowed_failures < 0:
            raise ValueError("allowed_failures must be an int >= 0")
        if not isinstance(max_payload, int) or max_payload <= 0:
            raise ValueError("max_payload must be a positive number of bytes")
        if max_payload > 0x7FFFFFC7:
            raise ValueError("max_payload must be below 2 GiB")
        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be a positive number of seconds or None")
        if connect_timeout is not None and not connect_timeout > 0:
            raise ValueError("connect_timeout must be a positive number of seconds or None")
        if (tls_cert is None) != (tls_ca is None):
            raise ValueError("give both tls_cert and tls_ca, or neither")
        if tls_cert is not None and address is None:
            raise ValueError("the embedded cluster listens on loopback only and takes no TLS settings")
        self._address = _gateways(address)
        self._allowed_failures = allowed_failures
        self._max_workers = max_workers
        self._task_timeout = task_timeout
        local = None
        if self._address is None:
            local = _process._worker_config(max_workers or _process._cpu_count(), name="ClusterExecutor",
                                            isolate_crashes=True)
        config = (self._address, allowed_failures, max_payload, float(task_timeout or 0.0),
                  0 if self._address is None else (max_workers or 0), local,
                  None if tls_cert is None else os.fspath(tls_cert),
                  None if tls_ca is None else os.fspath(tls_ca), float(connect_timeout or 0.0))
        self._shutdown_lock = threading.Lock()
        self._shutdown_thread = False
        self._cluster = _Cluster(rt, rt.cluster_new(config, _decode))
        _live.add(self._cluster)
        _logs.watch(self._cluster)  # its log lines go to logging.getLogger("cs_futures.cluster")

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self._address or "embedded")

    def submit(self, fn, /, *args, **kwargs):
        if (type(fn) is functools.partial and fn.func is _worker._process_chunk and not fn.keywords
                and len(args) == 1 and not kwargs and len(args[0]) > 1):
            return self._submit_chunk(fn.args[0], fn, args[0])  # a chunk of map(chunksize > 1)
        return self._submit(fn, args, kwargs)

    def _submit(self, fn, args, kwargs, allowed_failures=-1):
        with self._shutdown_lock:
            if self._shutdown_thread:
                raise RuntimeError(_bridge.MESSAGES["SubmitAfterShutdown"])
            if _process._global_shutdown:
                raise RuntimeError('cannot schedule new futures after interpreter shutdown')
            try:
                payload = _dumps((fn, args, kwargs))
            except Exception as exc:
                # As the process pool: a call that cannot be pickled fails its own future.
                future = _base.Future()
                future.set_exception(exc)
                return future
            try:
                rt = self._cluster.rt
                task = rt.cluster_submit(self._cluster.h, payload, 0.0, allowed_failures)
                return _base.Future._from_handle(task) if rt.is_main else _Following(rt, task)
            except RuntimeError:
                broken = self._broken
                if broken:
                    raise ClusterUnavailable(broken) from None
                raise

    def _submit_chunk(self, fn, call, chunk):
        """A chunk of ``map``: one task, which may not survive a lost attempt; when it is lost, its
        items run again one by one, each with the attempts the chunk left it, so that attempts are
        counted per item and only an item that kills its workers fails with KilledWorker."""
        outer = _ChunkFuture()
        first = self._submit(call, (chunk,), {}, 0)
        outer._parts = (first,)
        first.add_done_callback(functools.partial(self._chunk_done, outer, fn, chunk))
        return outer

    def _chunk_done(self, outer, fn, chunk, first):
        if outer.done():
            return
        if first.cancelled():
            outer.cancel()
            return
        error = first.exception()
        if error is None:
            _settle(outer, first.result(), None)
            return
        if not isinstance(error, KilledWorker):
            _settle(outer, None, error)
            return
        spent = error.attempts
        left = self._allowed_failures - spent
        try:
            parts = [self._submit(fn, args, {}, left) for args in chunk]
        except RuntimeError:  # shut down meanwhile: the chunk's loss stands
            _settle(outer, None, error)
            return
        outer._parts = tuple(parts)
        pending = [len(parts)]
        lock = threading.Lock()

        def part_done(_):
            with lock:
                pending[0] -= 1
                if pending[0]:
                    return
            for part in parts:
                if part.cancelled():
                    outer.cancel()
                    return
                error = part.exception()
                if error is not None:
                    if isinstance(error, KilledWorker) and spent:
                        error = KilledWorker(
                            "%s, and %d time(s) before in its map chunk" % (error.args[0], spent),
                            error.task, error.last_node, error.attempts + spent, error.lost_before_start)
                    _settle(outer, None, error)
                    return
            _settle(outer, [part.result() for part in parts], None)

        for part in parts:
            part.add_done_callback(part_done)

    submit.__doc__ = _base.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._shutdown_thread = True
        cluster = self._cluster
        cluster.rt.cluster_shutdown(cluster.h, 1 if cancel_futures else 0)
        if wait:
            cluster.rt.wait(cluster.rt.cluster_join, None, cluster.h)
            _logs.drain(cluster)  # every line is logged once shutdown(wait=True) returns
            _live.discard(cluster)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def __del__(self, _bridge=_bridge):
        cluster = self.__dict__.get("_cluster")
        if cluster is not None and cluster.h and not _bridge.forked:
            cluster.rt.cluster_shutdown(cluster.h, 0)  # queued work still runs; joined at exit

    def stats(self):
        """Return the executor's counters as a dict (cs_futures): ``queued`` (waiting for a
        node), ``in_flight`` (held by nodes), ``attempts_lost`` (runs lost with a worker or node
        after they started), ``lost_before_start``, ``reclaimed``, ``late_results_dropped``
        (results from a node that no longer held the task), ``nodes_lost`` (nodes whose tasks were
        taken back), ``watchdog_actions`` (the executor watchdog's actions) and ``broken`` (why
        the executor lost its cluster, or None)."""
        return self._cluster.rt.cluster_stats(self._cluster.h)

    @property
    def _broken(self):
        return self._cluster.rt.cluster_stats(self._cluster.h)["broken"] or False


from ._migration import ProcessPoolOnCluster  # noqa: E402  (a ClusterExecutor: after it)
