"""Task functions for the cluster tests, importable by name on the nodes' worker processes."""
import os
import time


def square(x):
    return x * x


def pid_of(_=None):
    return os.getpid()


def add(a, b=0):
    return a + b


def sleep_then(seconds, value=None):
    time.sleep(seconds)
    return value


def wait_for_file(path, value=None, limit=60):
    """Run until *path* exists (the test creates it): a task that holds its worker without a
    fixed sleep."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the task")
        time.sleep(0.01)
    return value


def fail(message):
    raise ValueError(message)


def exit_worker(code=1):
    os._exit(code)


def size_of(data):
    return len(data)


def big_result(n):
    return b"x" * n


def mark_or_exit(folder, item, poison):
    """Write a marker file for *item*; the *poison* item kills its worker instead."""
    if item == poison:
        os._exit(5)
    open(os.path.join(folder, "done-%d" % item), "w").close()
    return item


def kill_my_node():
    """SIGKILL the node that runs this worker (its parent): a task that kills its own node."""
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)
