"""Tasks for the InterpreterPoolExecutor tests. They run inside worker subinterpreters, which
import this module by name: standard library only (no cs_futures, no .NET)."""
import os
import sys
import threading

STATE = []


def double(x):
    return 2 * x


def add(a, b=0, *, c=0):
    return a + b + c


def remember(value):
    """Appends to this interpreter's copy of STATE and returns it (state stays per interpreter)."""
    STATE.append(value)
    return list(STATE)


def interpreter_id():
    """The running interpreter's id (3.13: _interpreters, 3.12: _xxsubinterpreters)."""
    try:
        import _interpreters as interpreters
    except ImportError:
        import _xxsubinterpreters as interpreters
    current = interpreters.get_current()
    return int(current[0] if isinstance(current, tuple) else current)


def fail(message):
    raise ValueError(message)


class Unpicklable(Exception):
    """An exception that cannot cross back: its argument is a lock."""

    def __init__(self):
        super().__init__(threading.Lock())


def fail_unpicklable():
    raise Unpicklable()


def return_lock():
    return threading.Lock()


def import_single_phase():
    import _testsinglephase  # noqa: F401  (single-phase init: refused in isolated interpreters)
    return "imported"


def init_state(value):
    STATE.append(value)


def init_fail():
    raise OSError("initializer failed")


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def pid():
    return os.getpid()


def block_on(fd):
    """Waits until one byte can be read from fd (a pipe shared by the process)."""
    return os.read(fd, 1)


def version():
    return sys.version_info[:2]


def thread_name():
    """The name of the running thread in this interpreter (this module imports threading)."""
    return threading.current_thread().name


class FailsToUnpickle:
    """Pickles, but fails to unpickle (as CPython's PickleShenanigans)."""

    def __init__(self, value):
        if value == 1:
            raise RuntimeError("gotcha")

    def __reduce__(self):
        return (type(self), (1,))
