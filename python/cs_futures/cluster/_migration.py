"""``ProcessPoolExecutor`` served by a cluster: what ``python -m cs_futures --cluster ADDRESS`` gives an
unmodified script (see ``cs_futures.__main__``)."""
import functools
import itertools
import os

from _cs_futures_worker import _worker

from .. import _bridge
from .. import process as _process
from . import ClusterExecutor

_tokens = itertools.count()


class ProcessPoolOnCluster(ClusterExecutor):
    """``ProcessPoolExecutor`` as ``python -m cs_futures --cluster ADDRESS`` serves it: CPython's
    arguments, calls sent to the cluster at :attr:`address`. ``max_workers`` caps the tasks
    running at once; ``initializer(*initargs)`` runs once in each worker process before the first
    of this executor's tasks there (a failing one fails those tasks with BrokenProcessPool);
    ``mp_context`` and ``max_tasks_per_child`` are accepted and have no effect (node workers
    serve many executors)."""

    address = None  # set by cs_futures.__main__

    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(), *,
                 max_tasks_per_child=None):
        # max_workers is checked by ClusterExecutor, with the same message.
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if max_tasks_per_child is not None:
            if not isinstance(max_tasks_per_child, int):
                raise TypeError("max_tasks_per_child must be an integer")
            elif max_tasks_per_child <= 0:
                raise ValueError(_bridge.MESSAGES["MaxTasksPerChildNotPositive"])
        super().__init__(self.address, max_workers=max_workers)
        self._max_workers = max_workers or _process._cpu_count()
        self._init = None if initializer is None else (
            "%d-%d-%d" % (os.getpid(), id(self), next(_tokens)), initializer, tuple(initargs))

    def _submit(self, fn, args, kwargs, allowed_failures=-1):
        if self._init is not None:
            fn = functools.partial(_worker.run_initialized, *self._init, fn)
        return super()._submit(fn, args, kwargs, allowed_failures)
