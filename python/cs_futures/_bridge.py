"""The .NET side of cs_futures: the entry points of Futures.Interop, declared for ctypes.

"py" entries run with the GIL held (``ctypes.PYFUNCTYPE``): they never block and report errors as
Python exceptions. "wait" entries release the GIL (``ctypes.CFUNCTYPE``) and block for at most the
slice they are given, so that signals such as Ctrl-C are handled between two calls.
"""
import ctypes
import os
import sys
import traceback

from . import _loader

VERSION = 2
SLICE = 0.1  # seconds a blocking call waits in .NET before Python checks for signals

_table = _loader.load()

_py = ctypes.PYFUNCTYPE
_c = ctypes.CFUNCTYPE
_h = ctypes.c_void_p
_o = ctypes.py_object
_i = ctypes.c_int
_d = ctypes.c_double
_hp = ctypes.POINTER(ctypes.c_void_p)

configure = _py(_i, _h, _o)(_table[0])
future_new = _py(_h)(_table[1])
handle_free = _py(None, _h, _i)(_table[2])
future_state = _py(_i, _h)(_table[3])
future_cancel = _py(_i, _h)(_table[4])
future_set_running_or_notify_cancel = _py(_i, _h)(_table[5])
future_set = _py(_i, _h, _i, _o)(_table[6])
future_outcome = _py(_o, _h, _i)(_table[7])
future_add_done_callback = _py(_i, _h, _o)(_table[8])
future_force = _py(_i, _h, _i, _i, _o)(_table[9])
future_notify_all = _py(None, _h)(_table[10])
future_wait = _c(_i, _h, _d)(_table[11])
wait_many = _c(_i, _hp, _i, _d, _i, ctypes.c_char_p)(_table[12])
cursor_new = _py(_h, _hp, _i)(_table[13])
cursor_next = _c(_i, _h, _d)(_table[14])
executor_new = _py(_h, _i, _o, _o)(_table[15])
executor_submit = _py(_h, _h, _o, _o, _o)(_table[16])
executor_shutdown = _py(_i, _h, _i)(_table[17])
executor_join = _c(_i, _h, _d)(_table[18])
executor_info = _py(ctypes.c_int64, _h, _i)(_table[19])
executor_thread = _py(_h, _h, _i)(_table[20])
thread_join = _c(_i, _h, _d)(_table[21])
get_version = _c(_i)(_table[22])
process_pool_new = _py(_h, _o, _o)(_table[23])
process_pool_submit = _py(_h, _h, _o, _d)(_table[24])
process_pool_shutdown = _py(_i, _h, _i, _i)(_table[25])
process_pool_join = _c(_i, _h, _d)(_table[26])
process_pool_info = _py(ctypes.c_int64, _h, _i)(_table[27])
process_pool_workers = _py(_o, _h)(_table[28])
process_worker_op = _py(ctypes.c_int64, _h, _i, _i)(_table[29])
process_worker_join = _c(_i, _h, _i, _d)(_table[30])

if get_version() != VERSION:
    raise ImportError("cs_futures: the .NET assemblies do not match this package (bridge version "
                      f"{get_version()}, expected {VERSION}); rebuild them")


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<cs_futures {self.name}>"


PENDING = _Marker("pending")
RAISED = _Marker("raised")
CANCELLED = _Marker("cancelled")
FOREIGN = _Marker("foreign")

_LOADED_PID = os.getpid()
forked = False
# Other modules' aliases of entry points, rebound in a forked child (see _after_fork_in_child).
fork_hooks = []


def _refuse(*args):
    check_process()


def _after_fork_in_child():
    """A child forked after .NET loaded must never run .NET code: its runtime lost its threads, and
    code it runs could disturb the parent's. Every entry point now raises RuntimeError instead."""
    global forked
    forked = True
    module = sys.modules[__name__]
    for name, value in list(vars(module).items()):
        if isinstance(value, ctypes._CFuncPtr):
            setattr(module, name, _refuse)
    for hook in fork_hooks:
        hook()


os.register_at_fork(after_in_child=_after_fork_in_child)


def check_process():
    """Raise RuntimeError in a child created by os.fork() after .NET was loaded: its runtime lost
    every thread but the forking one, so any wait would hang."""
    if forked:
        raise RuntimeError(
            "cs_futures cannot be used in a process created by os.fork() after .NET was loaded "
            f"(parent pid {_LOADED_PID}); start children with the 'spawn' or 'forkserver' method "
            "of multiprocessing, or create the executor in the child only")


def _describe(exc):
    """(type name, message, formatted traceback) of an exception, for .NET's view of it."""
    return (type(exc).__qualname__, str(exc),
            "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def start(worker_started, worker_stopping):
    """Give the bridge the stdlib exception classes, the worker-thread hooks and the markers."""
    from concurrent.futures import _base, thread, process
    config = (_base.CancelledError, _base.TimeoutError, _base.InvalidStateError,
              _base.BrokenExecutor, thread.BrokenThreadPool, process.BrokenProcessPool,
              RuntimeError, ValueError, _describe, worker_started, worker_stopping,
              PENDING, RAISED, CANCELLED, FOREIGN)
    if configure(ctypes.pythonapi._handle, config) != 0:
        raise ImportError("cs_futures: the .NET bridge could not be configured (see stderr)")


def handles(futures):
    """A ctypes array of the futures' handles."""
    return (ctypes.c_void_p * len(futures))(*[f._h for f in futures])


def clr_bridge():
    """pythonnet's view of the bridge, for .NET callables (imported on first use)."""
    _loader.enable_clr()
    from CsFutures.Interop.Bridge import ClrBridge
    return ClrBridge

