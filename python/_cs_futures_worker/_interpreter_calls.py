"""A call crossing into an interpreter-pool worker's subinterpreter, and its reply crossing back.

``run`` runs in the worker's isolated subinterpreter (bytes in, bytes out); ``result`` in the
caller's interpreter. Only bytes cross: the call is pickled by the caller (``_serialize.dumps``:
functions of ``__main__`` by value), the result or the error by the worker.

The subinterpreter imports this module when it starts, so it imports only what every task needs: the
C pickler (``_pickle``; ``pickle.py`` would bring ``re`` and ``struct``). ``_serialize`` is imported
when a call brings a function or class of ``__main__`` by value (its pickle names
``_serialize._make_function``) or when a result needs it, ``traceback`` when a task fails. Standard
library only: the worker must not load .NET.
"""
import _pickle
import sys
import types

_PROTOCOL = -1  # the highest this Python has, as _serialize.PROTOCOL


def _exception_type(module, qualname):
    """``excinfo.type`` of an ExecutionFailed: the exception's class by name, as CPython gives it."""
    return types.SimpleNamespace(__name__=qualname.rpartition(".")[2], __qualname__=qualname,
                                 __module__=module)


class ExecutionFailed(Exception):
    """An unhandled exception happened during execution in a worker's interpreter.

    Python 3.14's ``concurrent.futures.interpreter.ExecutionFailed``: ``excinfo`` has ``type``
    (a namespace with ``__name__``, ``__qualname__`` and ``__module__``), ``msg`` and
    ``formatted`` (the traceback as the interpreter printed it; also as ``errdisplay``, 3.14's
    name for it). It is the ``__cause__`` of the original exception, or raised itself when that
    exception cannot cross into the caller's interpreter. On Python 3.14+ the standard library's
    own ``concurrent.interpreters.ExecutionFailed`` is used instead (see ``_execution_failed``).
    """

    def __init__(self, excinfo):
        module, qualname, msg, formatted = excinfo
        self.excinfo = types.SimpleNamespace(
            type=_exception_type(module, qualname), msg=msg, formatted=formatted,
            errdisplay=formatted.rstrip())
        super().__init__(f"{qualname}: {msg}" if msg else qualname)

    def __str__(self):
        return "%s\n\nUncaught in the interpreter:\n\n%s" % (
            super().__str__(), self.excinfo.formatted.rstrip())


# Run first in each worker's new subinterpreter, where the engine sets thread_name to the worker
# thread's name: the caller's sys.path, and this package from the folder that holds it (found through
# its __path__ afterwards, so it does not stay on sys.path).
_BOOTSTRAP = """\
import sys
sys.path[:] = {path!r}
sys.path.insert(0, {folder!r})
from _cs_futures_worker import _interpreter_calls
del sys.path[0]
_interpreter_calls.start(thread_name)
run = _interpreter_calls.run
stop = _interpreter_calls.stop
"""


def bootstrap(path, folder):
    """The code each worker subinterpreter runs first, for the Python package's interpreter pool and
    a .NET host's (``PythonInterpreterPoolExecutor``): *path* as its ``sys.path``, this package
    imported from *folder*, then ``run(body) -> bytes`` and ``stop()`` defined."""
    return _BOOTSTRAP.format(path=list(path), folder=folder)


def _refused(name):
    if name.startswith("_"):  # what the import system looks up
        raise AttributeError(name)
    raise ImportError("cs_futures.%s is not available inside an InterpreterPoolExecutor task: the "
                      "worker's subinterpreter does not load .NET" % name, name="cs_futures")


def start(thread_name=None):
    """Prepare this (new) subinterpreter for calls: a fresh ``__main__`` for the functions and
    classes that arrive by value, the name the tasks see as ``threading.current_thread().name``
    (the worker thread's name in the caller's interpreter), and a ``cs_futures`` that a task's
    module may import but whose names raise ImportError (the package loads .NET)."""
    import builtins
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.modules["__mp_main__"] = main
    refusing = types.ModuleType("cs_futures")
    refusing.__getattr__ = _refused
    sys.modules.setdefault("cs_futures", refusing)
    global _thread_name
    _thread_name = thread_name


_thread_name = None  # the name this thread is to have, until threading has it


def _name_thread():
    """Give this thread its name in this interpreter's ``threading`` once a task starts with
    ``threading`` imported (by the task's module, by ``logging``, or by an earlier task): importing
    it for every worker would make every pool start slower."""
    global _thread_name
    threading = sys.modules.get("threading")
    if threading is not None and _thread_name is not None:
        threading.current_thread().name = _thread_name
        _thread_name = None


def stop():
    """Before the interpreter ends: forget this thread's ``threading`` entry while the module is
    whole. CPython 3.13 removes a thread that ``threading`` did not start (a ``_DummyThread``, as a
    worker's is) when a thread-local dies, which in an ending interpreter happens after the module's
    globals were cleared: it then printed ``Exception ignored in: ... _DeleteDummyThreadOnDel.__del__``
    at every pool's shutdown once a task had used ``threading`` (``logging`` does)."""
    threading = sys.modules.get("threading")
    info = getattr(threading, "_thread_local_info", None)
    if info is not None:
        info.__dict__.pop("_track_dummy_thread_ref", None)  # runs its __del__ now


def run(body):
    """Run one pickled call (fn, args, kwargs) in this interpreter: ``b"R"`` and the pickled
    result, or ``b"E"`` and the pickled error (see result). A .NET host's call may carry items
    ahead of the three (see _host.dumps)."""
    try:
        fn, args, kwargs = _pickle.loads(body)[-3:]
    except BaseException as exc:
        if _CROSS_INTERPRETER_ERRORS:
            return b"U" + _dump_unpickling_error(exc)
        return b"E" + _dump_error(exc)
    del body
    _name_thread()
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:
        return b"E" + _dump_error(exc)
    finally:
        del fn, args, kwargs  # release the arguments as soon as the call returns
    try:
        return b"R" + _dumps_result(value)
    except BaseException as exc:
        return b"E" + _dump_error(exc)


_NOT_ISOLATED = "does not support loading in subinterpreters"

# Python 3.14+: a call that cannot be unpickled in the worker fails as CPython's interpreter pool
# fails it, with concurrent.interpreters.NotShareableError("args not shareable").
_CROSS_INTERPRETER_ERRORS = sys.version_info >= (3, 14)
_UNPICKLED = ("\n\nThe above exception was the direct cause of the following exception:\n\n"
              "concurrent.interpreters.NotShareableError: object could not be unpickled")


def _dump_unpickling_error(exc):
    """The pickled text of CPython 3.14's cause for a call that its interpreter could not unpickle:
    the error, then the NotShareableError it caused."""
    try:
        import traceback
        text = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
    except BaseException:
        text = type(exc).__qualname__
    return _pickle.dumps(text + _UNPICKLED, _PROTOCOL)


def _with_hint(exc):
    """An ImportError for an extension module that cannot load in an isolated interpreter (CPython's
    message), made to say what to do instead."""
    if isinstance(exc, ImportError) and _NOT_ISOLATED in str(exc):
        name = exc.name or str(exc).partition("module ")[2].partition(" ")[0] or None
        hinted = ImportError(
            "%s: the extension module %r supports only the main interpreter, and "
            "InterpreterPoolExecutor runs each task in an isolated subinterpreter; use "
            "ProcessPoolExecutor for tasks that need it" % (exc, name),
            name=name, path=exc.path)
        hinted.__traceback__ = exc.__traceback__
        return hinted
    return exc


def _dump_error(exc):
    """Pickle (summary, pickled exception or None): the summary is ExecutionFailed's excinfo."""
    exc = _with_hint(exc)
    try:
        import traceback
        formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        msg = str(exc)
    except BaseException:
        formatted, msg = "%s (unprintable)\n" % type(exc).__qualname__, ""
    info = (getattr(type(exc), "__module__", None) or "builtins", type(exc).__qualname__, msg, formatted)
    exc.__traceback__ = None  # its frames hold the task's objects
    try:
        original = _dumps_result(exc)
    except BaseException:
        original = None
    return _pickle.dumps((info, original), _PROTOCOL)


def _dumps_result(value):
    """The pickle of a result or an exception: the C pickler's, or ``_serialize.dumps_result`` when
    that fails (with cloudpickle, a class or function that arrived by value goes back as cloudpickle
    sends it; without, the same error again)."""
    try:
        return _pickle.dumps(value, _PROTOCOL)
    except Exception:
        from . import _serialize
        return _serialize.dumps_result(value)


def _execution_failed(info):
    """The summary of a task's exception: on Python 3.14+ the standard library's
    ``concurrent.interpreters.ExecutionFailed`` with the ``excinfo`` CPython gives it (``formatted``
    the exception's last line, ``errdisplay`` the traceback), else ``ExecutionFailed``."""
    if not _CROSS_INTERPRETER_ERRORS:
        return ExecutionFailed(info)
    from concurrent.interpreters import ExecutionFailed as StdExecutionFailed
    module, qualname, msg, formatted = info
    name = qualname if module in ("builtins", "__main__") else f"{module}.{qualname}"
    excinfo = types.SimpleNamespace(
        type=_exception_type(module, qualname),
        msg=msg, formatted=f"{name}: {msg}" if msg else name, errdisplay=formatted.rstrip())
    return StdExecutionFailed(excinfo)


def result(reply):
    """The caller's side of run: the result, or raise the task's exception with an ExecutionFailed
    summary as its cause (the summary itself when the exception cannot be unpickled here); for a
    call the worker could not unpickle, on 3.14+, NotShareableError("args not shareable")."""
    data = memoryview(reply)[1:]
    if reply[:1] == b"R":
        return _pickle.loads(data)
    if reply[:1] == b"U":
        from _interpreters import NotShareableError
        raise NotShareableError("args not shareable") from Exception(_pickle.loads(data))
    info, original = _pickle.loads(data)
    failed = _execution_failed(info)
    exc = None
    if original is not None:
        try:
            exc = _pickle.loads(original)
        except BaseException:
            exc = None
    if not isinstance(exc, BaseException):
        raise failed
    try:
        raise exc from failed
    finally:
        exc = failed = None  # no cycle through this frame
