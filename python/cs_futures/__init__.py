"""Python's concurrent.futures with a .NET engine.

Execute computations asynchronously using threads or processes, exactly as the standard library's
``concurrent.futures`` does; the futures, queues and worker threads live in .NET.
"""

__author__ = 'cs_futures developers'

from ._base import (FIRST_COMPLETED,
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
from .thread import ThreadPoolExecutor
from .process import ProcessPoolExecutor
from ._loader import enable_clr
from ._alias import install, uninstall

__all__ = (
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
    'enable_clr',
    'install',
    'uninstall',
)


def __dir__():
    return __all__ + ('__author__', '__doc__')
