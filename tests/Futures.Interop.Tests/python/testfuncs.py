"""Functions that the Futures.Interop tests run on .NET executors."""
import threading
import time


def add(a, b):
    return a + b


def identity(x):
    return x


def echo_kwargs(a, *, scale=1, suffix=""):
    return f"{a * scale}{suffix}"


def make(kind):
    return {
        "none": None, "int": 42, "big": 2 ** 80, "float": 2.5, "bool": True, "str": "héllo",
        "bytes": b"\x00\x01\xff", "list": [1, 2, 3], "tuple": (1, "a"), "dict": {"a": 1, "b": 2},
        "nested": {"xs": [1, 2], "name": "n"}, "set": {1},
    }[kind]


def fail(message):
    def inner():
        raise ValueError(message)
    inner()


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def thread_name():
    return threading.current_thread().name


def square(x):
    return x * x


def pid():
    import os
    return os.getpid()


def busy_pid(seconds):
    """Spins (holding its interpreter's GIL) for a while, then returns its process id."""
    import os
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def crash():
    import os
    os._exit(7)


_GREETING = None


def set_greeting(text):
    global _GREETING
    _GREETING = text


def greeting():
    return _GREETING


def current_traceparent():
    """In a process-pool worker: the trace context the pool sent with this task (None if none)."""
    import sys
    module = sys.modules.get("_cs_futures_worker._worker")
    if module is None:
        raise RuntimeError("not in a cs_futures worker process")
    return module.traceparent


def interpreter_id():
    """The running interpreter's id (3.13: _interpreters, 3.12: _xxsubinterpreters)."""
    try:
        import _interpreters as interpreters
    except ImportError:
        import _xxsubinterpreters as interpreters
    current = interpreters.get_current()
    return int(current[0] if isinstance(current, tuple) else current)


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def import_single_phase():
    import _testsinglephase  # noqa: F401  (refused in isolated interpreters)
    return "imported"


_initialized = []


def init_interpreter(value):
    _initialized.append(value)


def initialized():
    return list(_initialized)


def init_fail():
    raise OSError("initializer failed")


def length(data):
    """The length of a str or bytes argument (the cluster's payload-size tests)."""
    return len(data)


def worker_modules():
    """In a process-pool worker: the loaded modules of cs_futures, its worker package, .NET and
    ctypes, comma-separated (a worker loads only _cs_futures_worker)."""
    import sys
    prefixes = ("cs_futures", "_cs_futures_worker", "clr", "Python.Runtime", "ctypes")
    return ",".join(sorted(name for name in sys.modules if name.startswith(prefixes)))
