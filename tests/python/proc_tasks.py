"""Task functions for test_process_pool: importable by name in the worker processes (which get the
parent's sys.path), so that they pickle by reference with or without cloudpickle."""
import os
import sys
import threading
import time


class TaskError(Exception):
    """An exception class the parent and the workers both import."""


class NeedsTwoArgs(Exception):
    """Pickles, but cannot be unpickled: its args do not match its __init__ (a classic)."""

    def __init__(self, a, b):
        super().__init__(a)


def add(a, b):
    return a + b


def square(x):
    return x * x


def identity(value):
    return value


def pid():
    return os.getpid()


def sleep_then(seconds, value=None):
    time.sleep(seconds)
    return value


def sleep_pid(seconds):
    time.sleep(seconds)
    return os.getpid()


def raise_value_error(*args):
    raise ValueError(*args)  # REMOTE-LINE-MARKER


def raise_task_error(*args):
    raise TaskError(*args)


def raise_needs_two_args():
    raise NeedsTwoArgs(1, 2)


def argv_and_env(name):
    return sys.argv, os.environ.get(name)


def thread_pool_sum(values):
    """Use a cs_futures ThreadPoolExecutor inside a worker (this loads .NET there)."""
    import cs_futures
    with cs_futures.ThreadPoolExecutor(2) as threads:
        return sum(threads.map(abs, values))


def exit_now(code):
    os._exit(code)


def return_lock():
    return threading.Lock()


def print_text(text):
    print(text)  # not flushed here: the worker flushes its streams after each task
    return os.getpid()


# Worker globals set by initializers.

_value = None
_queue = None
_lock = None
_started = None
_release = None


def init_set_global(value):
    global _value
    _value = value


def get_global():
    return _value


def init_fail():
    raise RuntimeError("initializer failed on purpose")


def init_queue(queue):
    global _queue
    _queue = queue
    queue.put(("init", os.getpid()))


def put_in_queue(value):
    _queue.put((value, os.getpid()))
    return value


def init_lock(lock):
    global _lock
    _lock = lock


def try_lock(timeout, lock=None):
    """True if the shared lock (*lock*, or the initializer's) could be taken within *timeout*
    seconds (released again)."""
    lock = _lock if lock is None else lock
    if lock.acquire(timeout=timeout):
        lock.release()
        return True
    return False


def put_into(queue, value):
    queue.put(value)
    return value


def init_events(started, release):
    """Store two multiprocessing objects with release()/acquire(timeout) (spawn Semaphores, or
    Events through the same names): a task signals *started*, then waits for *release*."""
    global _started, _release
    _started, _release = started, release


def _signal(obj):
    if hasattr(obj, "set"):
        obj.set()
    else:
        obj.release()


def _await(obj, limit):
    if hasattr(obj, "wait"):
        return obj.wait(limit)
    return obj.acquire(timeout=limit)


def block(value=None, limit=30):
    """Signal that the task runs, then wait (at most *limit* seconds) until released."""
    _signal(_started)
    _await(_release, limit)
    return value


def signal_and_sleep(seconds):
    """Signal that the task runs, then sleep (so that the test can kill the worker meanwhile)."""
    _signal(_started)
    time.sleep(seconds)
    return os.getpid()


def dotnet_modules_and_sigsegv_handler():
    """What a fresh worker has loaded of cs_futures and its worker package, and its SIGSEGV handler
    (the .NET runtime would install its own)."""
    import signal
    import sys
    return (sorted(name for name in sys.modules if name.startswith(("cs_futures", "_cs_futures_worker"))),
            signal.getsignal(signal.SIGSEGV) == signal.SIG_DFL)
