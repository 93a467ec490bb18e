"""The .NET side of cs_futures: the entry points of Futures.Interop.Bridge, the builtins of the engine module.

The contract is by name: the engine module (``cs_futures._engine``, see ``_loader``) has one builtin
function an entry point, and describes each (name, kind, signature), the selector enums and the shared
messages (``NativeEntryPoints.Description``); this module takes each entry it uses by name and checks
the version, so nothing is kept in step by position or by hand.

"py" entries run with the GIL held: they never block and report errors as Python exceptions. "wait"
entries release the GIL and block for at most the slice they are given, so that signals such as
Ctrl-C are handled between two calls; :func:`wait` is the one loop that calls them, and turns their
failure code into the Python exception. No .NET exception ever crosses into Python's native code: a
freed or foreign handle is a RuntimeError. Handles are ints (None for none).
"""
import os
import sys
import threading
import time
import traceback
import types

from . import _forkserver, _loader

VERSION = 6


def _check_version(version):
    """ImportError unless the bridge's version (as described, or as its get_version answers) is this
    package's."""
    if version != VERSION:
        raise ImportError("cs_futures: the .NET assemblies do not match this package (bridge version "
                          f"{version}, expected {VERSION}); rebuild them")


_contract = _loader.load()
# "native": the natively compiled engine (no .NET runtime needed); "runtime": the engine on CoreCLR.
ENGINE = _contract.engine
_check_version(_contract.version)

def _entry(name, contract=_contract):
    """The entry point ``name``: a builtin function of the engine module (``EngineModule``)."""
    if name not in contract.entries:
        raise ImportError(f"cs_futures: the .NET bridge has no entry point {name!r}; "
                          "rebuild the assemblies")
    return getattr(contract.module, name)


def _enum(name, contract=_contract):
    """A .NET enum shared with the package, as a namespace of its members (``FutureState.Pending``)."""
    return types.SimpleNamespace(**contract.enums[name])


# Selectors and codes, by name from .NET (CsFutures.Interop.Bridge.BridgeContract).
FutureState = _enum("FutureState")
ReturnWhen = _enum("ReturnWhen")
ExecutorInfo = _enum("ExecutorInfo")
ProcessPoolInfo = _enum("ProcessPoolInfo")
PoolShutdown = _enum("PoolShutdown")
WorkerOp = _enum("WorkerOp")
Outcome = _enum("Outcome")
ForceField = _enum("ForceField")
Code = _enum("EntryCode")
# Messages that the engine and the package both show, spelled once, in .NET.
MESSAGES = dict(_contract.messages)
NUMBERS = dict(_contract.numbers)
# Seconds a blocking call waits in .NET before Python checks for signals (NativeEntryPoints.WaitSlice).
SLICE = NUMBERS["WaitSlice"]

configure = _entry("configure")
last_error = _entry("last_error")
get_version = _entry("get_version")
handle_free = _entry("handle_free")
handle_copy = _entry("handle_copy")
future_new = _entry("future_new")
future_state = _entry("future_state")
future_cancel = _entry("future_cancel")
future_set_running_or_notify_cancel = _entry("future_set_running_or_notify_cancel")
future_set = _entry("future_set")
future_outcome = _entry("future_outcome")
future_add_done_callback = _entry("future_add_done_callback")
future_force = _entry("future_force")
future_notify_all = _entry("future_notify_all")
future_add_waiter = _entry("future_add_waiter")
future_remove_waiter = _entry("future_remove_waiter")
future_wait = _entry("future_wait")
wait_new = _entry("wait_new")
wait_next = _entry("wait_next")
cursor_new = _entry("cursor_new")
cursor_next = _entry("cursor_next")
executor_new = _entry("executor_new")
executor_submit = _entry("executor_submit")
executor_shutdown = _entry("executor_shutdown")
executor_join = _entry("executor_join")
executor_info = _entry("executor_info")
executor_thread = _entry("executor_thread")
executor_stats = _entry("executor_stats")
broken_reason = _entry("broken_reason")
thread_join = _entry("thread_join")
interpreter_pool_new = _entry("interpreter_pool_new")
interpreter_run = _entry("interpreter_run")
process_pool_new = _entry("process_pool_new")
process_pool_submit = _entry("process_pool_submit")
process_pool_shutdown = _entry("process_pool_shutdown")
process_pool_join = _entry("process_pool_join")
process_pool_info = _entry("process_pool_info")
process_pool_workers = _entry("process_pool_workers")
process_worker_op = _entry("process_worker_op")
process_worker_join = _entry("process_worker_join")
# The C base type of cs_futures.Future (CsFutures.Interop.Bridge.FutureType): the handle and the hot methods.
FutureBase = _contract.module.FutureBase
# The cluster's entries (cluster_new...) belong to the runtime-hosted engine: see runtime().

_check_version(get_version())

_FAILED = Code.Failed
_monotonic = time.monotonic


def _waiter(last_error):
    """The :func:`wait` loop for the "wait" entries of the bridge whose ``last_error`` is given."""

    def wait(entry, timeout, *args):
        """Call the "wait" entry ``entry(*args, seconds)`` in slices of at most :data:`SLICE` seconds,
        so that signals (Ctrl-C) are handled between two slices, until it returns non-zero or
        ``timeout`` seconds (None: no limit) have passed.

        Returns the entry's first non-zero result, or 0 when the timeout passed (the entry is called
        once more with 0 seconds at the end, as a last look). The first call is a 0-second look, which
        keeps the GIL (``EngineModule``): a wait on what is already done never lets go of it. A failure in .NET (``Code.Failed``) is
        raised as a Python exception (a freed handle: RuntimeError).
        """
        result = entry(*args, 0.0)  # a look without letting go of the GIL: no wait when it is done
        if not result and timeout is None:
            while not result:
                result = entry(*args, SLICE)
        elif not result:
            end_time = _monotonic() + timeout
            while True:
                remaining = end_time - _monotonic()
                result = entry(*args, (remaining if remaining < SLICE else SLICE) if remaining > 0 else 0.0)
                if result or remaining <= 0:
                    break
        if result == _FAILED:
            last_error()  # raises it
            raise RuntimeError("cs_futures: a blocking call into .NET failed without saying why")
        return result

    return wait


wait = _waiter(last_error)


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


def _refuse(*args, **kwargs):
    check_process()


def _is_entry(value):
    """True for an entry point: a builtin of an engine module (either engine's)."""
    return isinstance(value, types.BuiltinFunctionType) and value.__module__ == "cs_futures._engine"


def _after_fork_in_child():
    """A child forked after .NET loaded must never run .NET code: its runtime lost its threads, and
    code it runs could disturb the parent's. Every entry point now raises RuntimeError instead."""
    global forked
    forked = True
    module = sys.modules[__name__]
    for namespace in (module, _runtime):
        for name, value in list(vars(namespace).items()):
            if _is_entry(value):
                setattr(namespace, name, _refuse)
    for hook in fork_hooks:
        hook()


os.register_at_fork(after_in_child=_after_fork_in_child)
# 3.14's forkserver would import __main__, and with it .NET, before forking its children.
_forkserver.install()


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


def start(worker_started, worker_stopping, broken_interpreter_pool):
    """Give the bridge the stdlib exception classes (and the interpreter pool's, which the
    standard library has from 3.14 only), the worker-thread hooks and the markers."""
    global _start_args
    _start_args = (worker_started, worker_stopping, broken_interpreter_pool)
    _configure(configure, _contract, *_start_args)


def _broken_process_pool(*args):
    """A BrokenProcessPool (the stdlib's class): what .NET calls to make one. Imported here, when a
    process pool broke, not at start-up: the stdlib's process module brings multiprocessing (~10 ms)."""
    from concurrent.futures.process import BrokenProcessPool
    return BrokenProcessPool(*args)


def _configure(configure, contract, worker_started, worker_stopping, broken_interpreter_pool):
    from concurrent.futures import _base, thread
    items = {
        "CancelledError": _base.CancelledError, "TimeoutError": _base.TimeoutError,
        "InvalidStateError": _base.InvalidStateError, "BrokenExecutor": _base.BrokenExecutor,
        "BrokenThreadPool": thread.BrokenThreadPool, "BrokenProcessPool": _broken_process_pool,
        "RuntimeError": RuntimeError, "ValueError": ValueError, "DescribeException": _describe,
        "WorkerStarted": worker_started, "WorkerStopping": worker_stopping,
        "Pending": PENDING, "Raised": RAISED, "Cancelled": CANCELLED, "Foreign": FOREIGN,
        "BrokenInterpreterPool": broken_interpreter_pool,
    }
    # The tuple's order is .NET's (PythonBridge.Slot), read by name: nothing kept in step by hand.
    slots = {name: value for name, value in contract.enums["Slot"].items() if name != "Count"}
    if set(slots) != set(items):
        raise ImportError("cs_futures: the .NET bridge expects configuration items "
                          f"{sorted(slots)}, this package has {sorted(items)}; rebuild the assemblies")
    config = tuple(items[name] for name in sorted(slots, key=slots.get))
    try:
        failed = configure(None, config) != 0  # None: the module resolved the C API when it was made
    except Exception as exc:
        raise ImportError(f"cs_futures: the .NET bridge could not be configured: {exc}") from exc
    if failed:
        raise ImportError("cs_futures: the .NET bridge could not be configured (see stderr)")


def handles(futures):
    """The futures' handles, as the entries' "p" parameters take them."""
    return [f._h for f in futures]


def clr_bridge():
    """pythonnet's view of the bridge, for .NET callables (imported on first use)."""
    _loader.enable_clr()
    from CsFutures.Interop.Runtime import ClrBridge
    return ClrBridge


class Bridge:
    """One engine's contract as attributes: its entry points (``b.cluster_new``), enums
    (``b.FutureState``), ``MESSAGES``, and ``wait`` for its "wait" entries."""

    def __init__(self, contract):
        self.engine = contract.engine
        for name in contract.entries:
            setattr(self, name, _entry(name, contract))
        for name in contract.enums:
            setattr(self, name, _enum(name, contract))
        self.MESSAGES = dict(contract.messages)
        self.wait = _waiter(self.last_error)
        # True when this is the engine of the package's own futures (cs_futures.Future).
        self.is_main = contract is _contract


_runtime = types.SimpleNamespace()  # replaced by the runtime bridge once loaded
_runtime_lock = threading.Lock()
_start_args = None


def runtime(needed_by="the cluster executor"):
    """The bridge of the runtime-hosted engine (.NET on CoreCLR), which the cluster executor needs:
    the package's own engine when that is the runtime-hosted one; otherwise CoreCLR is started
    beside the native engine on first use (ImportError naming what to install when .NET is
    missing). Its futures are not the package's: see cluster's ``_Following``."""
    global _runtime
    check_process()
    with _runtime_lock:
        if not isinstance(_runtime, Bridge):
            contract = _loader.load_runtime(needed_by)
            _check_version(contract.version)
            bridge = Bridge(contract)
            if not bridge.is_main:
                _configure(bridge.configure, contract, *_start_args)
            _runtime = bridge
    return _runtime
