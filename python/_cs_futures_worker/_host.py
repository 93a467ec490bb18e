"""Process pools and clusters for .NET applications that host Python (Futures.Interop's
``PythonProcessPoolExecutor`` and ``PythonClusterExecutor``): the worker command line, the workers' settings, pickling calls and
decoding replies. Loaded in the host's interpreter from a private copy of this package
(``_cs_futures_worker``, see WorkerPackage.cs), so that the host needs no installed cs_futures.

Standard library only.
"""
import os
import pickle
import sys
import sysconfig

from . import _interpreter_calls
from . import _serialize
from . import _worker


def worker_command(package_parent, executable=None):
    """Return (program, arguments) that start one worker from the copy in *package_parent*: the
    bootstrap of the Python package's process pool (``_cs_futures_worker.worker_arguments``)."""
    from . import worker_arguments
    return executable or interpreter(), worker_arguments(folder=package_parent)


def interpreter():
    """The python executable of this interpreter (an embedded one's sys.executable is the host)."""
    name = "python%d.%d" % sys.version_info[:2]
    candidates = []
    if sys.prefix != sys.base_prefix:  # a virtual environment
        candidates.append(os.path.join(sys.prefix, "bin", "python"))
    candidates += [os.path.join(sysconfig.get_config_var("BINDIR") or "", name),
                   os.path.join(sys.base_exec_prefix, "bin", name),
                   sys.executable]
    for path in candidates:
        if path and os.path.basename(path).startswith("python") and os.access(path, os.X_OK):
            return path
    raise RuntimeError("no python executable found for the worker processes (looked at %s); set "
                       "PythonProcessPoolOptions.PythonExecutable" % ", ".join(filter(None, candidates)))


def settings(initializer=None, initargs=()):
    """The pickled settings every worker receives first (see _worker._initialize)."""
    init = None if initializer is None else _serialize.dumps((initializer, tuple(initargs)))
    return pickle.dumps({"sys_path": list(sys.path) + _loaded_file_dirs(), "sys_argv": [""],
                         "authkey": None, "initializer": init}, _serialize.PROTOCOL)


def _loaded_file_dirs():
    """Folders of modules the host loaded from a file (PythonRuntime.LoadFile) that sys.path does
    not reach, so that workers import them by the same name."""
    folders = []
    for module in list(sys.modules.values()):
        folder = _file_module_folder(module)
        if folder is not None and folder not in folders:
            folders.append(folder)
    return folders


def _file_module_folder(module):
    """The folder of a top-level module loaded from a file outside sys.path, else None."""
    name = getattr(module, "__name__", "")
    path = getattr(module, "__file__", None)
    if not path or "." in name or os.path.splitext(os.path.basename(path))[0] != name:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    return None if folder in sys.path else folder


def dumps(fn, args, kwargs=None):
    """The pickled call fn(*args, **kwargs); if fn's module was loaded from a file that sys.path
    does not reach, its folder goes first, so that the worker finds the module by name."""
    call = (fn, tuple(args), dict(kwargs or {}))
    folder = _file_module_folder(sys.modules.get(getattr(fn, "__module__", None) or ""))
    if folder is not None:
        call = (_PathExtension(folder),) + call
    return _serialize.dumps(call)


class _PathExtension:
    def __init__(self, folder):
        self.folder = folder

    def __reduce__(self):
        return _worker.extend_path, (self.folder,)


def dumps_cluster(fn, args, kwargs=None):
    """The pickled call for a cluster (PythonClusterExecutor): the cluster tag of this Python
    (_worker.cluster_tag), then the call. The folder of a module loaded from a file goes first as a
    call to builtins, which any node's worker runs (one of another --worker-command too)."""
    call = (fn, tuple(args), dict(kwargs or {}))
    folder = _file_module_folder(sys.modules.get(getattr(fn, "__module__", None) or ""))
    if folder is not None:
        call = (_PortablePathExtension(folder),) + call
    return _worker.cluster_tag() + _serialize.dumps(call, _serialize.machine_bound_reducers())


class _PortablePathExtension:
    """Unpickles, in any worker, as _worker.extend_path(folder) does."""
    _CODE = "import sys\nif folder not in sys.path:\n    sys.path.append(folder)\n"

    def __init__(self, folder):
        self.folder = folder

    def __reduce__(self):
        return exec, (self._CODE, {"folder": self.folder})


def decode(ok, data):
    """The result of a reply, or raise the task's exception (the remote traceback as its cause)."""
    value = pickle.loads(data)
    if ok:
        return value
    raise _worker.rebuild_error(*value)


def interpreter_bootstrap(package_parent):
    """The code each worker subinterpreter of a C# host's interpreter pool
    (``PythonInterpreterPoolExecutor``) runs first (the engine sets ``thread_name``): the host's
    ``sys.path`` and the private copy of the worker package, then ``run(body) -> bytes`` and
    ``stop()``, as in the Python package's interpreter pool (see _interpreter_calls.bootstrap)."""
    return _interpreter_calls.bootstrap(list(sys.path) + _loaded_file_dirs(), package_parent)


def decode_interpreter(reply):
    """The result of an interpreter pool's reply, or raise the task's exception (an ExecutionFailed
    summary as its cause)."""
    return _interpreter_calls.result(reply)
