"""The .NET executor's log lines through Python's ``logging``: the logger ``cs_futures.cluster``.

The .NET executor logs its decisions (a node lost and the evidence, the watchdog's actions:
registering the executor again, taking tasks back, giving up) from its own threads, which do not
hold the GIL. It never calls Python for that: it only queues its lines (bounded; the engine's
``ClusterLogLines``). This process drains them, calling the bridge's ``cluster_logs`` entry with
the GIL held like any other call, and hands each line to the logger with its level (WARNING for a
node lost and the watchdog's actions, ERROR when the watchdog gave up and the futures fail, INFO
otherwise).

Why a queue drained from Python rather than a callback from .NET into Python: a callback would run
on the executor's threads, which would then take the GIL (and wait for it while Python runs), and
a handler that blocks or raises would stall or break the executor; an exception would have to be
kept from crossing into C. Draining from Python needs no new way in from C (one ordinary "py"
entry), runs handlers on a Python thread, and cannot stall the executor. The drain happens on a
daemon thread every :data:`PERIOD` seconds while executors live (lines appear while the caller
waits in native code, e.g. in ``as_completed``), and once more when an executor is joined, so that
every line is logged by the time ``shutdown(wait=True)`` returns.
"""
import logging
import threading
import weakref

from .. import _bridge

logger = logging.getLogger("cs_futures.cluster")

PERIOD = 0.25  # seconds between two drains of the live executors' lines

_clusters = weakref.WeakSet()  # the executors' handles (_Cluster) whose lines are drained
_lock = threading.Lock()  # one drain at a time: lines are logged in their order
_thread = None
_stop = threading.Event()


def watch(cluster):
    """Drain the log lines of *cluster* (a ``_Cluster``) from now on, until it is freed or the
    interpreter exits; starts the draining thread with the first executor."""
    global _thread
    if not hasattr(cluster.rt, "cluster_logs"):  # assemblies older than the entry: nothing to drain
        return
    with _lock:
        _clusters.add(cluster)
        if _thread is None and not _stop.is_set():
            _thread = threading.Thread(target=_run, name="cs_futures.cluster logs", daemon=True)
            _thread.start()


def drain(cluster):
    """Log the lines the executor of *cluster* queued since the last drain; never raises (a freed
    executor, or a handler or filter that raises, loses its lines, not the caller)."""
    if _bridge.forked or not hasattr(cluster.rt, "cluster_logs"):
        return
    with _lock:
        handle = cluster.h
        if not handle:
            return
        try:
            lines = cluster.rt.cluster_logs(handle)
        except Exception:  # freed meanwhile
            return
        for level, line in lines:
            try:
                logger.log(level, "%s", line)
            except Exception:
                pass


def _run():
    """The draining thread: every PERIOD seconds, each live executor's lines, until :func:`stop`."""
    while not _stop.wait(PERIOD):
        for cluster in list(_clusters):
            drain(cluster)


def stop():
    """Stop the draining thread (at exit, after the executors' last drain)."""
    _stop.set()
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(5)
