"""Python's concurrent.futures with a .NET engine.

Execute computations asynchronously using threads or processes, exactly as the standard library's
``concurrent.futures`` does; the futures, queues and worker threads live in .NET.

Every public name of the running interpreter's ``concurrent.futures`` can be imported from here.
``InterpreterPoolExecutor`` (Python 3.14's) runs on the engine too, on Python 3.12 and later.
Names of a newer standard library that cs_futures does not implement are the standard library's
own objects, forwarded as they are.
"""

__author__ = 'cs_futures developers'


def _refuse_free_threaded():
    """Free-threaded builds (python3.13t, 3.14t) have another object layout and no GIL: the .NET
    bridge (pythonnet 3.2.1 and cs_futures' C API layer) is built for the default build."""
    import sys
    # "t" in the ABI flags (python3.13t); sysconfig, which says it on every platform, costs ~1 ms to
    # import, so only where there are no ABI flags (Windows).
    if "t" in getattr(sys, "abiflags", "") or not hasattr(sys, "abiflags") and _gil_disabled_build():
        raise ImportError(
            "cs_futures does not support free-threaded CPython builds yet (this is %s, built with "
            "Py_GIL_DISABLED; sys.executable %s): its .NET bridge relies on the GIL and on the "
            "default build's object layout. Use the default build of CPython 3.11 or newer "
            "(python3.X, not python3.Xt)." % (sys.version.split()[0] + "t", sys.executable),
            name=__name__)


def _gil_disabled_build():
    import sysconfig
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


_refuse_free_threaded()

import concurrent.futures as _std  # noqa: E402  (the standard library's module, never cs_futures:
                                   # the alias is installed only after this package is imported)

from ._base import (FIRST_COMPLETED,  # noqa: E402
                    FIRST_EXCEPTION,
                    ALL_COMPLETED,
                    CancelledError,
                    TimeoutError,
                    InvalidStateError,
                    BrokenExecutor,
                    Future,
                    Executor,
                    wait,
                    as_completed)
from .thread import ThreadPoolExecutor  # noqa: E402
from ._loader import enable_clr  # noqa: E402
from . import _base, _bridge, thread  # noqa: E402

# Imported on first use, as the standard library imports its pools: the process pool (with
# multiprocessing and the pickler), the interpreter pool and the cluster take about 30 ms to import,
# which a script that only uses threads should not pay.
# install() and uninstall() (the concurrent.futures alias) are used by python -m cs_futures and by
# scripts that call them: their module is imported on first use too.
_LAZY = {"ProcessPoolExecutor": "process", "InterpreterPoolExecutor": "interpreter",
         "ClusterExecutor": "cluster", "process": None, "interpreter": None, "cluster": None,
         "install": "_alias", "uninstall": "_alias"}

#: The engine this process runs: "native" (the natively compiled library of the platform wheel; no
#: .NET runtime needed) or "runtime" (the assemblies on the .NET runtime). ``CS_FUTURES_ENGINE`` forces one.
ENGINE = _bridge.ENGINE

# The standard library's public names that cs_futures does not define: taken from the standard
# module on first access (its own lazy import, bound to its own submodules).
_FORWARDED = tuple(name for name in _std.__all__ if name not in globals() and name not in _LAZY)

# The standard module's names in its order (they differ between versions: 3.11's lacks
# InvalidStateError, 3.14's has InterpreterPoolExecutor), then cs_futures' own.
__all__ = tuple(_std.__all__) + tuple(name for name in (
    'FIRST_COMPLETED',
    'FIRST_EXCEPTION',
    'ALL_COMPLETED',
    'CancelledError',
    'TimeoutError',
    'InvalidStateError',
    'BrokenExecutor',
    'Future',
    'Executor',
    'wait',
    'as_completed',
    'ProcessPoolExecutor',
    'ThreadPoolExecutor',
    'InterpreterPoolExecutor',
    'ClusterExecutor',
    'enable_clr',
    'install',
    'uninstall',
) if name not in _std.__all__)


def __dir__():
    return __all__ + ('__author__', '__doc__')


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module("." + (_LAZY[name] or name), __name__)
        value = module if _LAZY[name] is None else getattr(module, name)
        globals()[name] = value
        return value
    if name in _FORWARDED:
        value = getattr(_std, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _forward_public_names():
    """Give cs_futures' submodules the public names of the standard submodules that they do not
    define, so that a script that imports them keeps importing. They are the standard library's
    objects. (``thread.WorkerContext`` is defined there: cs_futures' ThreadPoolExecutor has the
    ``prepare_context`` hook.)"""
    import types
    from concurrent.futures import _base as std_base, thread as std_thread
    # (cs_futures.process copies its standard module's names itself, when it is imported.)
    for ours, std in ((_base, std_base), (thread, std_thread)):
        for name, value in vars(std).items():
            if (not name.startswith("_") and not isinstance(value, types.ModuleType)
                    and not hasattr(ours, name)):
                setattr(ours, name, value)


_forward_public_names()
