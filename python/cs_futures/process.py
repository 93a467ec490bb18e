"""ProcessPoolExecutor (CPython: concurrent/futures/process.py).

Interim: until the process pool on .NET-managed workers lands, ``ProcessPoolExecutor`` is the
standard library's own process pool (its machinery, its futures), so that scripts that use both
pools keep working. ``wait`` and ``as_completed`` accept its futures. The README lists this.
"""
from concurrent.futures import process as _std_process

from . import _base

BrokenProcessPool = _std_process.BrokenProcessPool
EXTRA_QUEUED_CALLS = _std_process.EXTRA_QUEUED_CALLS
_MAX_WINDOWS_WORKERS = getattr(_std_process, "_MAX_WINDOWS_WORKERS", 61)
_check_system_limits = _std_process._check_system_limits
_chain_from_iterable_of_lists = _std_process._chain_from_iterable_of_lists
_ExceptionWithTraceback = _std_process._ExceptionWithTraceback
_RemoteTraceback = _std_process._RemoteTraceback
_ThreadWakeup = _std_process._ThreadWakeup
_ExecutorManagerThread = _std_process._ExecutorManagerThread
_WorkItem = _std_process._WorkItem
_CallItem = _std_process._CallItem
_ResultItem = _std_process._ResultItem
_process_worker = _std_process._process_worker
_python_exit = _std_process._python_exit
_threads_wakeups = _std_process._threads_wakeups


class ProcessPoolExecutor(_std_process.ProcessPoolExecutor):
    """The standard library's process pool, until the .NET-managed one is built."""
