"""The cluster's errors (public from ``cs_futures.cluster``) and the decoding of a task's reply, errors
included, for the .NET side."""
from concurrent.futures import BrokenExecutor

from _cs_futures_worker import _worker

from .. import process as _process

VersionMismatch = _worker.VersionMismatch


class KilledWorker(Exception):
    """A task was lost with the worker process or node running it ``allowed_failures + 1`` times
    (Dask's ``distributed.KilledWorker``): ``task`` (its number in the executor, from 0),
    ``last_node`` (the node that held it last) and ``attempts`` (runs lost after they started;
    ``lost_before_start``: times lost with a node before it started)."""

    __module__ = "cs_futures.cluster"

    def __init__(self, message, task=None, last_node=None, attempts=0, lost_before_start=0):
        super().__init__(message)
        self.task = task
        self.last_node = last_node
        self.attempts = attempts
        self.lost_before_start = lost_before_start

    def __reduce__(self):
        return type(self), (self.args[0], self.task, self.last_node, self.attempts, self.lost_before_start)


class PayloadTooLarge(ValueError):
    """A call pickled to more than the executor's ``max_payload`` bytes: only its future fails, and
    nothing is sent."""

    __module__ = "cs_futures.cluster"

    def __init__(self, message, size=None, limit=None):
        super().__init__(message)
        self.size = size
        self.limit = limit


class ClusterUnavailable(BrokenExecutor):
    """The executor lost its cluster (under development clustering, the primary node died): every
    pending future fails with it, and the executor takes no more work."""

    __module__ = "cs_futures.cluster"


def _cluster_error(message, *details):
    return RuntimeError(message)


_ERRORS = {
    "KilledWorker": KilledWorker,
    "PayloadTooLarge": PayloadTooLarge,
    "ClusterUnavailable": ClusterUnavailable,
    "NodeFailed": _cluster_error,
}


def decode(kind, data):
    """A cluster task's reply as (ok, value); called by .NET under the GIL, once per future."""
    if kind == 3:
        name, message, details = data
        return False, _ERRORS[name](message, *details)
    return _process._decode(kind, data)
