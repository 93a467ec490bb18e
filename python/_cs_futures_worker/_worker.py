"""The worker process of cs_futures' process pools (the Python package's, a .NET host's, a cluster node's).

Started by the .NET engine as ``python -c <bootstrap>`` (the package's ``worker_arguments()``, which
runs its ``__main__``); it connects to the Unix socket named by ``CS_FUTURES_WORKER_SOCKET`` and
speaks the engine's frame protocol (``Futures.Native/Processes/WorkerProtocol.cs``): Init, then Task
after Task, until Stop or the end of the connection. It never runs the parent's main script:
functions from ``__main__`` arrive by value (see ``_serialize``) and are rebuilt in a fresh
``__main__`` namespace.

Standard library only: the worker must not load .NET.
"""
import os
import pickle
import struct
import sys
import time
import types

# socket and traceback are imported where they are used: an error path can afford the import.

from . import _serialize

_HEADER = struct.Struct("<IBq")
INIT, TASK, STOP, TRACED_TASK = 1, 2, 3, 4
READY, INIT_FAILED, OK, ERROR, OK_TIMED, ERROR_TIMED = 10, 11, 12, 13, 14, 15
_TIMES = struct.Struct("<qq")

# The W3C traceparent of the task running now (its span in the parent process), or None: sent by
# the pool while its ActivitySource has listeners (FrameKind.TracedTask); a task may pass it on.
traceparent = None


class _Connection:
    """Frames over the socket to the pool."""

    def __init__(self, path):
        import socket
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._reader = self._sock.makefile("rb", buffering=1 << 16)

    def recv(self):
        """Return (kind, id, body), or None at the end of the connection."""
        header = self._reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        length, kind, task_id = _HEADER.unpack(header)
        body = self._reader.read(length) if length else b""
        if len(body) < length:
            return None
        return kind, task_id, body

    def send(self, kind, task_id, body=b""):
        self._sock.sendall(_HEADER.pack(len(body), kind, task_id) + body)


class SharedFd:
    """A file descriptor of the parent, as a worker receives it in pickled initargs (a Queue's
    pipe, a shared-memory arena): ``detach()`` asks the parent's descriptor server for a copy
    (SCM_RIGHTS over a Unix socket in a private folder). CPython's workers inherit them instead."""

    def __init__(self, address, token):
        self.address = address
        self.token = token

    def detach(self):
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(self.address)
            sock.sendall(b"%d\n" % self.token)
            _, fds, _, _ = socket.recv_fds(sock, 1, 1)
        if not fds:
            raise OSError("the parent process did not send file descriptor %d" % self.token)
        return fds[0]


def _process_chunk(fn, chunk):
    """Processes a chunk of an iterable passed to map.

    Runs the function passed to map() on a chunk of the
    iterable passed to map.

    This function is run in a separate process.

    """
    return [fn(*args) for args in chunk]


def extend_path(folder):
    """Unpickled ahead of a call whose module lives in *folder* (see _host.dumps)."""
    if folder not in sys.path:
        sys.path.append(folder)


def _remote_traceback(exc):
    import traceback
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return '\n"""\n%s"""' % text


def _dump_error(exc, broken=False):
    """Pickle (exception, remote traceback text, broken): CPython's _ExceptionWithTraceback."""
    tb = _remote_traceback(exc)
    exc.__traceback__ = None  # its frames hold the task's objects
    try:
        return _serialize.dumps_result((exc, tb, broken))
    except BaseException as error:  # the exception itself cannot be pickled: report why
        tb = _remote_traceback(error)
        error.__traceback__ = None
        try:
            return pickle.dumps((error, tb, broken), _serialize.PROTOCOL)
        except BaseException:
            substitute = RuntimeError("%s: %s (the exception could not be pickled)"
                                      % (type(exc).__qualname__, exc))
            return pickle.dumps((substitute, tb, broken), _serialize.PROTOCOL)


def rebuild_error(exc, tb, broken):
    """The parent's side of _dump_error: the exception to raise for a task, with the worker's
    traceback text as its cause (CPython's _RemoteTraceback); BrokenProcessPool for a call the
    worker could not unpickle."""
    from concurrent.futures.process import BrokenProcessPool, _RemoteTraceback
    exc.__cause__ = _RemoteTraceback(tb)
    if not broken:
        return exc
    error = BrokenProcessPool("The task could not be unpickled in its worker process.")
    error.__cause__ = exc
    return error


def _fresh_main():
    """A new, empty ``__main__`` for functions and classes that arrive by value."""
    import builtins
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.modules["__mp_main__"] = main


def _initialize(conn, body):
    """Apply the parent's settings and run the initializer; False if it failed. A cluster node's
    workers get no settings (empty body): they keep their own path, and serve many executors."""
    if not body:
        _fresh_main()
        return True
    settings = pickle.loads(body)
    sys.path[:] = settings["sys_path"]
    sys.argv[:] = settings["sys_argv"]
    if settings.get("authkey") is not None:
        import multiprocessing.process
        multiprocessing.process.current_process().authkey = settings["authkey"]
    _fresh_main()
    if settings["initializer"] is None:
        return True
    try:
        initializer, initargs = _serialize.loads(settings["initializer"])
        initializer(*initargs)
    except BaseException as exc:
        import logging
        logging.getLogger("concurrent.futures").critical("Exception in initializer:", exc_info=True)
        _flush_multiprocessing()
        conn.send(INIT_FAILED, 0, _remote_traceback(exc).encode("utf-8", "replace"))
        return False
    return True


def _flush_multiprocessing():
    """Before the pool hears of a failed initializer: let multiprocessing queues the initializer
    wrote to (a QueueHandler, say) deliver, as CPython's worker does by exiting first."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._exit_function()


# A cluster task starts with this tag and the Python version that pickled it: marshalled bytecode
# (functions of __main__ travel as code) differs between minor versions, so a node refuses a task
# from another one before unpickling it.
CLUSTER_TAG = b"CSF"


def cluster_tag():
    """The prefix of a cluster task pickled by this interpreter."""
    return CLUSTER_TAG + bytes(sys.version_info[:2])


class VersionMismatch(RuntimeError):
    """A cluster node refused a task pickled by another Python minor version."""


def _untag(body):
    """The pickle of a cluster task (the process pool's tasks carry no tag)."""
    if bytes(body[:3]) != CLUSTER_TAG:
        return body
    major, minor = body[3], body[4]
    if (major, minor) != sys.version_info[:2]:
        raise VersionMismatch(
            "this task was pickled by Python %d.%d and this cluster node runs Python %d.%d (%s): "
            "nodes and the submitting process must run the same Python minor version, because "
            "functions travel as bytecode" % (major, minor, *sys.version_info[:2], sys.executable))
    return memoryview(body)[5:]


def _run(body):
    """Run one pickled call; return the reply (kind, body)."""
    try:
        fn, args, kwargs = _serialize.loads(_untag(body))[-3:]
    except BaseException as exc:
        # CPython's worker dies when it cannot unpickle its call, breaking the pool; here only
        # this task fails, with BrokenProcessPool and the reason as its cause.
        return ERROR, _dump_error(exc, broken=True)
    del body
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        return ERROR, _dump_error(exc)
    finally:
        del fn, args, kwargs  # release the arguments as soon as the call returns
    try:
        return OK, _serialize.dumps_result(result)
    except BaseException as exc:
        return ERROR, _dump_error(exc)


def _run_traced(body):
    """Run a TracedTask: the trace context, then the call; reply with the run's start and end
    (nanoseconds since the epoch) ahead of the usual reply, for the parent to build the span."""
    global traceparent
    (length,) = struct.unpack_from("<H", body)
    traceparent = body[2:2 + length].decode("ascii")
    body = memoryview(body)[2 + length:]
    start = time.time_ns()
    try:
        kind, reply = _run(body)
    finally:
        traceparent = None
    end = time.time_ns()
    return (OK_TIMED if kind == OK else ERROR_TIMED), _TIMES.pack(start, end) + reply


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


_initialized = {}  # a migrated ProcessPoolExecutor's token -> None, or the initializer's failure


def run_initialized(token, initializer, initargs, fn, *args, **kwargs):
    """A cluster task of a migrated ProcessPoolExecutor with an initializer: run the initializer the
    first time this worker sees the executor's *token* (CPython runs it once per worker), then the
    call. A failed initializer fails every task of that executor in this worker, as CPython's
    broken pool fails them."""
    if token not in _initialized:
        try:
            initializer(*initargs)
            _initialized[token] = None
        except BaseException as exc:
            import logging
            logging.getLogger("concurrent.futures").critical("Exception in initializer:", exc_info=True)
            _initialized[token] = _remote_traceback(exc)
    failure = _initialized[token]
    if failure is not None:
        from concurrent.futures.process import BrokenProcessPool, _RemoteTraceback
        error = BrokenProcessPool("A process in the process pool was terminated abruptly while the "
                                  "future was running or pending: its initializer failed")
        error.__cause__ = _RemoteTraceback(failure)
        raise error
    return fn(*args, **kwargs)


def _exit_with_parent():
    """A cluster node's worker (started with the argument ``cluster-node``): exit when the node is
    gone, even in the middle of a task (a node killed with SIGKILL cannot stop its workers; its
    tasks run again elsewhere)."""
    import threading
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="cs_futures node watch", daemon=True).start()


def main():
    """Serve tasks until told to stop; return the exit code."""
    if sys.argv[1:] == ["cluster-node"]:
        sys.argv[1:] = []
        _exit_with_parent()
    conn = _Connection(os.environ.pop("CS_FUTURES_WORKER_SOCKET"))
    frame = conn.recv()
    if frame is None or frame[0] != INIT:
        return 2
    try:
        if not _initialize(conn, frame[2]):
            _flush()
            return 1
        conn.send(READY, 0)
        while True:
            frame = conn.recv()
            if frame is None or frame[0] == STOP:
                return 0
            kind, task_id, body = frame
            del frame
            if kind == TRACED_TASK:
                reply_kind, reply = _run_traced(body)
            else:
                reply_kind, reply = _run(body)
            del body
            _flush()
            conn.send(reply_kind, task_id, reply)
            del reply
    except KeyboardInterrupt:
        return 130  # Ctrl-C reaches the whole process group; the parent reports it
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the pool went away
