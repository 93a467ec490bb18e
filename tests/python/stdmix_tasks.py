"""Tasks for test_stdlib_functions, importable by name in process workers, subinterpreters and
cluster workers: standard library only."""
import os
import time


def gated(path, value=None, error=None, limit=60):
    """Return *value* (or raise ValueError(*error*)) once the file *path* exists: the test creates it
    to release the task, which holds its worker until then."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the task")
        time.sleep(0.002)
    if error is not None:
        raise ValueError(error)
    return value


def identity(value):
    return value
