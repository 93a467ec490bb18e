"""The process pool's descriptor passing: what inheritance does for CPython's spawned workers, for
the multiprocessing objects (locks, semaphores, pipes, shared memory) that a call or an initializer
carries. A call is pickled as multiprocessing pickles for a spawned child (``dumps_spawning``); each
file descriptor in it is duplicated and handed to the worker that asks for it over a Unix socket of
this process (``_DescriptorServer``; the worker side is ``_worker.SharedFd``).
"""
import itertools
import os
import threading
from multiprocessing import context as _context
from multiprocessing import reduction as _reduction

from _cs_futures_worker import _serialize, _worker


class _DescriptorServer:
    """Hands this process's file descriptors to workers (see ``_worker.SharedFd``): what
    inheritance does for CPython's workers, for multiprocessing objects passed in initargs. One
    daemon thread, started on first use, listening in a folder only this user can open.

    Each shared descriptor is a duplicate, kept only while a worker may still ask for it: one in a
    task's call is handed out once (its worker detaches it when it unpickles the call) and released
    then, or when the task's future is done without it; one in the initializer stays until the pool
    is freed (every worker, replacements included, runs the initializer)."""

    def __init__(self):
        import socket
        import tempfile
        self._folder = tempfile.mkdtemp(prefix="csf-fd-")
        self.address = os.path.join(self._folder, "fds.sock")
        self._lock = threading.Lock()
        self._fds = {}  # token -> (duplicate, handed out once)
        self._tokens = itertools.count()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.address)
        self._listener.listen()
        import atexit
        import shutil
        atexit.register(shutil.rmtree, self._folder, True)
        threading.Thread(target=self._serve, name="cs_futures descriptor server", daemon=True).start()

    def share(self, fd, once):
        """Keep a duplicate of *fd* for workers; return its token."""
        duplicate = os.dup(fd)
        with self._lock:
            token = next(self._tokens)
            self._fds[token] = (duplicate, once)
        return token

    def release(self, tokens):
        """Close the duplicates of *tokens* (those not handed out yet)."""
        for token in tokens:
            with self._lock:
                entry = self._fds.pop(token, None)
            if entry is not None:
                os.close(entry[0])

    def open_count(self):
        with self._lock:
            return len(self._fds)

    def _serve(self):
        import socket
        while True:
            conn, _ = self._listener.accept()
            with conn:
                try:
                    token = int(conn.makefile("rb").readline())
                    with self._lock:
                        fd, once = self._fds[token]
                        if once:
                            del self._fds[token]
                    try:
                        socket.send_fds(conn, [b"f"], [fd])
                    finally:
                        if once:
                            os.close(fd)
                except (OSError, ValueError, KeyError):
                    pass  # the worker reports the missing descriptor


_server = None  # the one _DescriptorServer of this process, made on first use
_server_lock = threading.Lock()


def server():
    """This process's descriptor server (started on first use)."""
    global _server
    with _server_lock:
        if _server is None:
            _server = _DescriptorServer()
        return _server


def release(tokens):
    """Close the duplicates of *tokens* that no worker asked for."""
    if tokens and _server is not None:
        _server.release(tokens)


class _SpawningPopen:
    """Stands in for multiprocessing's spawning Popen while calls and the initializer are pickled,
    so that multiprocessing objects pickle as they do for CPython's spawned workers: locks and
    semaphores by name, pipes and shared memory through the descriptor server. (CPython accepts
    them only in initargs; here task arguments may carry them too.) One per pickling: it keeps the
    tokens of the descriptors it shared, for their release."""

    def __init__(self, once):
        self._once = once
        self.tokens = []

    def duplicate_for_child(self, fd):
        return fd

    def DupFd(self, fd):
        shared = server()
        token = shared.share(fd, self._once)
        self.tokens.append(token)
        return _worker.SharedFd(shared.address, token)


def dumps_spawning(obj, once):
    """Pickle a call (*once*: each descriptor in it is handed out once) or the initializer as
    multiprocessing pickles for a spawned child; return (bytes, tokens of the descriptors shared)."""
    popen = _SpawningPopen(once)
    _context.set_spawning_popen(popen)
    try:
        return _serialize.dumps(obj, _reduction.ForkingPickler._extra_reducers), popen.tokens
    except BaseException:
        release(popen.tokens)
        raise
    finally:
        _context.set_spawning_popen(None)


def release_when_done(tokens):
    """A done callback: the task's descriptors that its worker never asked for are closed."""
    return lambda future: release(tokens)
