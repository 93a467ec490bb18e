"""What code and tests that reach into CPython's ``concurrent/futures/process.py`` find there.

``cs_futures.process`` re-exports all of it: the standard module's names, private ones included
(``_check_system_limits``, ``_RemoteTraceback``, ``_ExecutorManagerThread``...), which the pool then
replaces where it has its own; multiprocessing's exit-code convention; and the views behind an
executor's ``_processes``, ``_executor_manager_thread`` and ``_call_queue`` (the .NET engine has no
``multiprocessing.Process`` objects, manager thread or call queue).
"""
import sys
from concurrent.futures import process as _std_process

from . import _bridge


def stdlib_names():
    """The standard module's names, private ones included (not its dunders)."""
    return {name: value for name, value in vars(_std_process).items() if not name.startswith("__")}


def _mp_exitcode(code):
    """multiprocessing's convention, -N for a process killed by signal N, from the OS exit code
    .NET reports (128 + N). A worker that calls sys.exit(129..192) itself reads as a signal too."""
    if code is not None and 128 < code <= 128 + 64 and sys.platform != "win32":
        return 128 - code
    return code


class _WorkerProcess:
    """A worker as ``executor._processes`` shows it: what code uses of ``multiprocessing.Process``."""

    def __init__(self, pool, pid):
        self._pool = pool
        self.pid = pid
        self.name = "cs_futures-worker-%d" % pid

    @property
    def exitcode(self):
        code = _bridge.process_worker_op(self._pool.h, self.pid, _bridge.WorkerOp.ExitCode)
        return None if code in (_bridge.Code.WorkerAlive, _bridge.Code.WorkerUnknown) else _mp_exitcode(code)

    def is_alive(self):
        return (_bridge.process_worker_op(self._pool.h, self.pid, _bridge.WorkerOp.ExitCode)
                == _bridge.Code.WorkerAlive)

    def terminate(self):
        """Send SIGTERM to the worker."""
        _bridge.process_worker_op(self._pool.h, self.pid, _bridge.WorkerOp.Terminate)

    def kill(self):
        """Send SIGKILL to the worker."""
        _bridge.process_worker_op(self._pool.h, self.pid, _bridge.WorkerOp.Kill)

    def join(self, timeout=None):
        """Wait until the worker has exited."""
        _bridge.wait(_bridge.process_worker_join, timeout, self._pool.h, self.pid)

    def __repr__(self):
        return "<%s pid=%d %s>" % (type(self).__name__, self.pid,
                                   "alive" if self.is_alive() else "exitcode=%s" % self.exitcode)


class _PoolManager:
    """``executor._executor_manager_thread`` as code uses it: ``join()`` waits until the pool shut
    down and every worker exited (the .NET engine has no manager thread)."""

    def __init__(self, pool):
        self._pool = pool

    def join(self, timeout=None):
        _bridge.wait(_bridge.process_pool_join, timeout, self._pool.h)

    def is_alive(self):
        return not _bridge.wait(_bridge.process_pool_join, 0, self._pool.h)


class _CallQueue:
    """``executor._call_queue``: tasks go straight to the engine; nothing to join."""

    def join_thread(self):
        pass

    def close(self):
        pass
